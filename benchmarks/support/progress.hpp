/// \file support/progress.hpp
/// Per-epoch progress for the benchmark programs: on stderr when SEQREC_VERBOSE is set.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <seqrec/train/trainer.hpp>

namespace seqrec::bench {

inline TrainHooks progress_hooks() {
    TrainHooks hooks;
    if (std::getenv("SEQREC_VERBOSE"))
        hooks.on_epoch = [](const EpochLog& e) {
            std::fprintf(stderr, "epoch %3ld  loss %.4f  valid %.4f%s  %.2fs\n", long(e.epoch),
                         e.loss, e.valid_metric, e.best ? " *" : "", e.seconds);
        };
    return hooks;
}

}  // namespace seqrec::bench
