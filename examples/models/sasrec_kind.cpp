// The SASRec family's runtime kind (trainer, evaluation, serving, checkpoints), compiled once for
// the programs of this build instead of in each (SEQREC_SEPARATE_MODELS, runtime/registry.hpp).
#include <seqrec/runtime/registry.hpp>

SEQREC_DEFINE_MODEL_KIND(SASRec)
