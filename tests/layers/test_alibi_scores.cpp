// ALiBi-style linear position bias as a score policy: attention and block gradients (slopes
// included) through the layer harness, the geometric start, last-slot inference, and a SASRec
// with ALiBi attention end to end (config, variant name, save-shaped parameter list).
#include <doctest/doctest.h>

#include <seqrec/layers/multi_head_attention.hpp>
#include <seqrec/models/sasrec.hpp>

#include "support/attention_check.hpp"
#include "support/fixtures.hpp"

using namespace seqrec;
using namespace seqrec::test;

namespace {
const AttentionConfig kAlibi{AttentionKind::alibi, -1, true};
}

TEST_CASE("ALiBi attention: backward matches central differences, slopes included") {
    for (Index heads : {1, 2}) {
        for (double p : {0.0, 0.4}) {
            for (Index L : {1, 7}) {
                CAPTURE(heads);
                CAPTURE(p);
                CAPTURE(L);
                std::mt19937_64 rng(61);
                MultiHeadAttention<double> attn(4, heads, p, kAlibi);
                randomize(attn, rng);
                Mat Z = random_input(L, 4, rng), X = random_input(L, 4, rng);
                check_attention_gradients(attn, Z, X);
            }
        }
    }
}

TEST_CASE("ALiBi block with a refinement: gradient check, last slot equals the full forward") {
    BlockConfig bc = block_config(4, 2, 0.0, Activation::gelu);
    bc.attention = kAlibi;
    for (Refinement m : {Refinement::none, Refinement::additive}) {
        bc.refine = m;
        bc.maxlen = 6;
        std::mt19937_64 rng(62);
        TransformerBlock<double> block(bc);
        randomize(block, rng);
        Mat X = random_input(6, 4, rng);
        const Mat out = check_block_gradients(block, X);
        TransformerBlock<double>::Cache c;
        Buf last;
        block.forward_last(X, last, c);
        CHECK(relative_error(last.row(0), out.row(5)) < 1e-12);
    }
}

TEST_CASE("ALiBi: geometric start, bias lowers far keys, zero slopes give dot-product attention") {
    MultiHeadAttention<double> attn(8, 4, 0.0, kAlibi);
    const auto& slopes = std::get<AlibiScores<double>>(attn.scores).slopes;
    for (Index k = 0; k < 4; ++k)
        CHECK(slopes(0, k) == doctest::Approx(std::pow(2.0, -2.0 * (k + 1))));

    std::mt19937_64 rng(63);
    MultiHeadAttention<double> plain(8, 4, 0.0);
    randomize(plain, rng);
    attn.wq = plain.wq;
    attn.wk = plain.wk;
    attn.wv = plain.wv;
    Mat Z = random_input(5, 8, rng), X = random_input(5, 8, rng);
    MultiHeadAttention<double>::Cache c;
    Buf Oa, Op;
    attn.forward(Z, X, Oa, c, nullptr);
    // Attention weights of the last query decay with distance beyond what the scores give.
    const Mat A_alibi = c.weights[3].probs;
    plain.forward(Z, X, Op, c, nullptr);
    const Mat A_plain = c.weights[3].probs;
    CHECK(A_alibi(4, 0) / A_alibi(4, 4) < A_plain(4, 0) / A_plain(4, 4));
    CHECK(Oa != Op);
    std::get<AlibiScores<double>>(attn.scores).slopes.setZero();
    attn.forward(Z, X, Oa, c, nullptr);
    CHECK(Oa == Op);
}

TEST_CASE("SASRec with ALiBi attention: config round trip, variant, init keeps the slopes") {
    const auto cfg = make_config<SASRecConfig>({{"num_items", 9},
                                                {"maxlen", 6},
                                                {"dim", 4},
                                                {"heads", 2},
                                                {"attention", "alibi"},
                                                {"abs_pos", false}});
    CHECK(cfg.variant() == "sasrec+alibi");
    CHECK(SASRecConfig::from_json(cfg.to_json()).attention == AttentionKind::alibi);
    SASRec<double> m(cfg);
    Rng r(1);
    m.init(r);
    int slope_tensors = 0;
    m.for_each_param("", [&](const std::string& name, Param<double>& p) {
        if (name.find("alibi_slopes") == std::string::npos) return;
        ++slope_tensors;
        CHECK(p(0, 0) == doctest::Approx(0.0625));  // 2^(-8/2)
    });
    CHECK(slope_tensors == 2);  // one per block
    CHECK_THROWS_AS(
        make_config<SASRecConfig>({{"num_items", 9}, {"attention", "alibi"}, {"max_rel", 3}}),
        ConfigError);
    CHECK_THROWS_AS(make_config<SASRecConfig>({{"num_items", 9}, {"attention", "sinusoid"}}),
                    ConfigError);
}
