/// \file layers/encoder.hpp
/// A stack of transformer blocks followed by a final layer norm: one "tower" (MODELS.md §2 after
/// the embedding; MQSA has two of them, §5.2).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "seqrec/layers/transformer_block.hpp"

namespace seqrec {

template <typename T>
struct Encoder {
    struct Cache {
        std::vector<Buffer<T>> xs;  // xs[b] = input of block b, xs[blocks] = last block output
        std::vector<typename TransformerBlock<T>::Cache> blocks;
        typename LayerNorm<T>::Cache ln_out;
        Buffer<T> out, dx, dnext;
    };
    std::vector<TransformerBlock<T>> blocks;
    LayerNorm<T> ln_out;

    Encoder() = default;
    /// `num_blocks` blocks of configuration `c`.
    Encoder(Index num_blocks, const BlockConfig& c) : ln_out(c.dim, c.ln_eps) {
        for (Index b = 0; b < num_blocks; ++b) blocks.emplace_back(c);
    }

    /// X0 (rows x d, packed windows) -> Ĥ (rows x d), kept in c.out.
    const Buffer<T>& forward(const ConstRef<T>& X0, PackRows pack, Cache& c, Rng* rng) const {
        const std::size_t nb = blocks.size();
        c.xs.resize(nb + 1);
        c.blocks.resize(nb);
        c.xs[0] = X0;
        for (std::size_t b = 0; b < nb; ++b)
            blocks[b].forward(c.xs[b], pack, c.xs[b + 1], c.blocks[b], rng);
        ln_out.forward(c.xs[nb], c.out, &c.ln_out);
        return c.out;
    }
    /// From dĤ: ADDS parameter gradients into `grad` and dL/dX0 into dX0.
    void backward(const ConstRef<T>& dout, PackRows pack, Cache& c, Encoder& grad,
                  Buffer<T>& dX0) const {
        const std::size_t nb = blocks.size();
        c.dx.setZero(dout.rows(), dout.cols());
        ln_out.backward(dout, c.ln_out, grad.ln_out, c.dx);
        for (std::size_t b = nb; b-- > 0;) {
            c.dnext.setZero(dout.rows(), dout.cols());
            blocks[b].backward(c.dx, c.xs[b], pack, c.blocks[b], grad.blocks[b], c.dnext);
            std::swap(c.dx, c.dnext);
        }
        dX0 += c.dx;
    }
    /// Inference: Ĥ of the last slot (1 x d); the last block computes only its last row.
    void forward_last(const ConstRef<T>& X0, Buffer<T>& h, Cache& c) const {
        const std::size_t nb = blocks.size();
        c.xs.resize(nb + 1);
        c.blocks.resize(nb);
        c.xs[0] = X0;
        for (std::size_t b = 0; b + 1 < nb; ++b)
            blocks[b].forward(c.xs[b], c.xs[b + 1], c.blocks[b], nullptr);
        blocks[nb - 1].forward_last(c.xs[nb - 1], c.xs[nb], c.blocks[nb - 1]);
        ln_out.forward(c.xs[nb], h);
    }
    template <typename F>
    void for_each_param(const std::string& prefix, F&& f) {
        for (std::size_t b = 0; b < blocks.size(); ++b)
            blocks[b].for_each_param(prefix + "block" + std::to_string(b) + ".", f);
        ln_out.for_each_param(prefix + "ln_out.", f);
    }
};

}  // namespace seqrec
