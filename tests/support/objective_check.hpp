// The training objective over a batch of windows as the trainer runs it: each window's stream keyed
// by (seed, window), SASRec's windows in packs of 2, item-table losses in row blocks
// of 3 and item chunks of 4, so that the multi-pack, multi-block and multi-chunk paths run with
// sizes that divide nothing here.
#pragma once

#include <seqrec/train/objective.hpp>
#include <vector>

namespace seqrec::test {

inline ObjectiveSpec small_chunks(LossKind kind, const Distillation* kd = nullptr) {
    ObjectiveSpec spec{kind, kd};
    spec.chunks.row_block = 3;
    spec.chunks.item_chunk = 4;
    spec.pack_windows = 2;
    return spec;
}

template <typename Model>
double packed_loss(const Model& model, const std::vector<TrainSample>& batch,
                   const ObjectiveSpec& spec, double scale, Model* grad, std::uint64_t seed,
                   ObjectiveWorkspace<Model>& ws) {
    Rng stream(0);
    return windows_objective(
        model, batch.size(),
        [&](std::size_t i, Rng& r) -> const TrainSample& {
            r = Rng({seed, i});
            return batch[i];
        },
        &stream, spec, scale, grad, ws);
}

template <typename Model>
double packed_loss(const Model& model, const std::vector<TrainSample>& batch,
                   const ObjectiveSpec& spec, double scale, Model* grad, std::uint64_t seed) {
    ObjectiveWorkspace<Model> ws;
    return packed_loss(model, batch, spec, scale, grad, seed, ws);
}

}  // namespace seqrec::test
