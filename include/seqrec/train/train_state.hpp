/// \file train/train_state.hpp
/// Everything a training run carries from one epoch to the next besides the code: with it, a
/// stopped run continues to exactly the model an uninterrupted run gives (io/train_state_file.hpp
/// saves it next to a model directory). Random streams need no saved state: each is derived from
/// (seed, epoch, user), so the epoch number is the RNG state.
#pragma once

#include "seqrec/core/types.hpp"
#include "seqrec/eval/metrics.hpp"
#include "seqrec/optim/adam.hpp"
#include "seqrec/train/early_stopping.hpp"

namespace seqrec {

template <typename T>
struct TrainState {
    Index epoch = 0;    ///< epochs completed; 0 = a fresh run
    Vector<T> params;   ///< the weights after `epoch` (the model's flat ParamArena)
    AdamState<T> adam;  ///< moments and step count
    EarlyStopping::State stopping;
    Metrics best_valid;          ///< validation metrics at stopping.best_epoch
    Vector<T> best_params;       ///< the best weights so far (empty before the first validation)
    double train_seconds = 0.0;  ///< wall time of the epochs so far, across resumptions
};

}  // namespace seqrec
