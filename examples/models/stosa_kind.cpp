// STOSA's runtime kind, compiled once for the programs of this build (see sasrec_kind.cpp).
#include <seqrec/runtime/registry.hpp>

SEQREC_DEFINE_MODEL_KIND(Stosa)
