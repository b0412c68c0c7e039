/// \file kernels/packed_lookup.hpp
/// The input lookup of packed compact windows (core/pack.hpp), shared by SASRec's and STOSA's
/// embeddings: row r of window w is scale * E[id] + P[slot], a window of L items taking the
/// position rows n-L..n-1, and its backward, a scatter-add into the same rows.
#pragma once

#include <string>

#include "seqrec/core/buffer.hpp"
#include "seqrec/core/error.hpp"
#include "seqrec/core/pack.hpp"
#include "seqrec/core/param.hpp"

namespace seqrec {

/// Writes X (rows x d). P == nullptr: no positions. ShapeError when a window exceeds maxlen.
template <typename T>
void packed_lookup(const Param<T>& E, const Param<T>* P, T scale, Index maxlen, const ItemId* ids,
                   PackRows pack, Buffer<T>& X) {
    X.resize(pack.rows(), E.cols());
    for (Index w = 0; w < pack.windows; ++w) {
        const Index L = pack.length(w), o = pack.begin(w);
        SEQREC_CHECK(
            L <= maxlen, ShapeError,
            "window of " + std::to_string(L) + " items exceeds maxlen " + std::to_string(maxlen));
        for (Index t = 0; t < L; ++t) X.row(o + t) = scale * E.row(ids[o + t]);
        if (P) X.middleRows(o, L) += P->bottomRows(L);
    }
}

/// ADDS scale * g's rows into gE's item rows and g into gP's position rows (gP == nullptr: none).
template <typename T, typename G>
void packed_lookup_backward(const G& g, T scale, const ItemId* ids, PackRows pack, Param<T>& gE,
                            Param<T>* gP) {
    for (Index w = 0; w < pack.windows; ++w) {
        const Index L = pack.length(w), o = pack.begin(w);
        for (Index t = 0; t < L; ++t) gE.row(ids[o + t]) += scale * g.row(o + t);
        if (gP) gP->bottomRows(L) += g.middleRows(o, L);
    }
}

}  // namespace seqrec
