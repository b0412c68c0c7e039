// Stochastic embedding and the STOSA layer (MODELS.md 3.1-3.11), passthrough off and on.
#include <doctest/doctest.h>

#include <seqrec/layers/stochastic_embedding.hpp>
#include <seqrec/layers/stochastic_transformer_block.hpp>

#include "support/gradient_check.hpp"

using namespace seqrec;
using namespace seqrec::test;

TEST_CASE("stochastic embedding and STOSA layer: backward matches (passthrough off/on)") {
    for (bool pass : {false, true}) {
        for (double p : {0.0, 0.3}) {
            INFO("passthrough " << pass << " p " << p);
            std::mt19937_64 rng(62);
            StochasticEmbedding<double> emb(8, 6, 4, p, 1e-12);
            emb.for_each_param("", [&](const std::string&, auto& m) { fill_uniform(m, rng); });
            emb.E_mu.row(0).setZero();
            emb.E_sigma.row(0).setZero();
            StochasticTransformerBlock<double> blk(4, 2, p, p, 1e-12, pass);
            blk.for_each_param("", [&](const std::string& name, auto& m) {
                if (name.find("gamma") != std::string::npos)
                    fill_uniform(m, rng, 0.6, 1.4);
                else
                    fill_uniform(m, rng, -0.5, 0.5);
            });
            auto ge = emb;
            zero_params<double>(ge);
            auto gb = blk;
            zero_params<double>(gb);
            const std::vector<ItemId> ids = {3, 1, 3, 8, 5};
            Mat rm(5, 4), rs(5, 4);
            fill_uniform(rm, rng);
            fill_uniform(rs, rng);
            auto loss = [&] {
                Rng drop(4);
                StochasticEmbedding<double>::Cache ce;
                StochasticTransformerBlock<double>::Cache cb;
                Buf xm, xs, ym, ys;
                emb.forward(ids, xm, xs, ce, &drop);
                blk.forward(xm, xs, ym, ys, cb, &drop);
                return (ym.array() * rm.array()).sum() + (ys.array() * rs.array()).sum();
            };
            Rng drop(4);
            StochasticEmbedding<double>::Cache ce;
            StochasticTransformerBlock<double>::Cache cb;
            Buf xm, xs, ym, ys;
            emb.forward(ids, xm, xs, ce, &drop);
            blk.forward(xm, xs, ym, ys, cb, &drop);
            Buf dxm(Mat::Zero(5, 4)), dxs(Mat::Zero(5, 4));
            Buf dym(rm), dys(rs);
            blk.backward(dym, dys, xm, xs, cb, gb, dxm, dxs);
            emb.backward(dxm, dxs, ids, ce, ge);
            check_param_gradients(emb, ge, loss);
            check_param_gradients(blk, gb, loss);
            if (pass) {  // invariant 6: the mean path gets no gradient
                CHECK(gb.attn.v_mu.W.isZero());
                CHECK(gb.o_mu.W.isZero());
                CHECK(gb.ffn_mu.fc1.W.isZero());
                CHECK(ym == xm);
            }
        }
    }
}
