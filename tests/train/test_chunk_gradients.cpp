// Chunk gradients with touched item rows (train/chunk_gradients.hpp): the rule that says which
// item rows a window may write, the row-restricted fold against the whole-arena fold, and the
// exchange format (round trip and malformed messages).
#include <doctest/doctest.h>

#include <algorithm>
#include <seqrec/train/chunk_gradients.hpp>
#include <seqrec/train/objective.hpp>
#include <set>
#include <vector>

#include "support/fixtures.hpp"

using namespace seqrec;
using namespace seqrec::test;

namespace {
constexpr Index kItems = 40;

std::vector<TrainSample> some_windows(Index maxlen, std::uint64_t seed) {
    std::vector<TrainSample> out;
    Rng rng(seed);
    for (Index len : {2, 5, 9, 14}) {
        std::vector<ItemId> seq;
        for (Index t = 0; t < len; ++t) seq.push_back(ItemId(1 + rng.below(kItems / 2)));
        TrainSample s;
        make_train_sample(seq, maxlen, s);
        sample_negatives(std::vector<ItemId>{}, kItems, s.target.size(), s.negative, rng);
        out.push_back(std::move(s));
    }
    return out;
}

/// Every non-zero row of every item table of `grad` is one of `allowed`, and some row is non-zero.
template <typename Model>
void check_rows_within(const Model& grad, const std::set<ItemId>& allowed) {
    Index nonzero = 0;
    const auto& arena = grad.params();
    for (const ParamInfo& p : arena.table()) {
        if (p.role != ParamRole::item_table) continue;
        for (Index r = 0; r < p.rows; ++r) {
            bool any = false;
            for (Index j = 0; j < p.cols; ++j)
                any = any || arena.data()[p.offset + r * p.cols + j] != 0;
            if (!any) continue;
            ++nonzero;
            CAPTURE(p.name);
            CAPTURE(r);
            CHECK(allowed.count(ItemId(r)) == 1);
        }
    }
    CHECK(nonzero > 0);
}

template <typename Model>
void check_rule(const Model& model, const ObjectiveSpec& spec) {
    REQUIRE_FALSE(writes_every_item_row(spec));
    const auto batch = some_windows(model.maxlen(), 3);
    std::set<ItemId> allowed;  // what the trainer lists for these windows
    for (const auto& s : batch)
        item_rows_written(spec, s, [&](const std::vector<ItemId>& ids) {
            allowed.insert(ids.begin(), ids.end());
        });
    Model grad = model.zeros_like();
    ObjectiveWorkspace<Model> ws;
    Rng stream(0);
    windows_objective(
        model, batch.size(),
        [&](std::size_t i, Rng& r) -> const TrainSample& {
            r = Rng({11u, i});
            return batch[i];
        },
        &stream, spec, 0.1, &grad, ws);
    check_rows_within(grad, allowed);
}
}  // namespace

TEST_CASE("a window writes only the item rows of its inputs, targets and negatives") {
    const std::vector<ItemId> shared = {31, 33, 38, 31};
    std::vector<double> log_q(kItems + 1, -1.0);
    ObjectiveSpec sampled(LossKind::sampled_ce);
    sampled.negatives = &shared;
    sampled.log_q = &log_q;
    for (const char* kind :
         {"sasrec", "mqsa", "rpesa", "awr-simple", "awr-value", "awr-additive"}) {
        CAPTURE(kind);
        nlohmann::json f = {
            {"num_items", kItems}, {"maxlen", 8}, {"dim", 4}, {"heads", 2}, {"dropout", 0.2}};
        const std::string k = kind;
        if (k == "mqsa") f.update({{"multi_query", true}, {"query_window", 3}});
        if (k == "rpesa") f.update({{"attention", "relative"}, {"max_rel", 2}});
        if (k.rfind("awr-", 0) == 0) f["refine"] = k.substr(4);
        SASRec<double> model(make_config<SASRecConfig>(f));
        Rng init(5);
        model.init(init);
        perturb_constants(model, 5);
        check_rule(model, ObjectiveSpec(LossKind::bce));
        check_rule(model, sampled);
    }
    for (const char* refine : {"none", "simple", "stochastic"}) {
        CAPTURE(refine);
        Stosa<double> model(make_config<StosaConfig>({{"num_items", kItems},
                                                      {"maxlen", 8},
                                                      {"dim", 4},
                                                      {"heads", 2},
                                                      {"dropout", 0.2},
                                                      {"refine", refine}}));
        Rng init(6);
        model.init(init);
        check_rule(model, ObjectiveSpec(LossKind::bpr));
    }
    // Full CE and distillation score the whole catalogue.
    CHECK(writes_every_item_row(ObjectiveSpec(LossKind::ce)));
    TransitionTeacher teacher(build_transition_graph({{1, 2, 3}}, kItems), 0.5);
    const Distillation kd{&teacher, {}, 0.0};
    CHECK(writes_every_item_row(ObjectiveSpec(LossKind::bce, &kd)));
}

namespace {
using Chunks = ChunkGradients<SASRec<float>>;

SASRec<float> small_model() {
    SASRec<float> m(make_config<SASRecConfig>({{"num_items", 300}, {"maxlen", 5}, {"dim", 8}}));
    Rng init(2);
    m.init(init);
    return m;
}

/// Writes values in chunk c at the non-table tensors and at `rows` of the item table, and lists
/// the rows; returns the whole arena as written.
Vector<float> fill_chunk(Chunks& chunks, std::size_t c, const std::vector<ItemId>& rows,
                         std::uint64_t seed) {
    auto& a = chunks[c].params();
    Rng rng(seed);
    for (const ParamInfo& p : a.table()) {
        if (p.role == ParamRole::item_table) {
            for (ItemId r : rows)
                for (Index j = 0; j < p.cols; ++j)
                    a.data()[p.offset + r * p.cols + j] = float(rng.uniform()) - 0.5f;
        } else {
            for (Index j = 0; j < p.size(); ++j)
                a.data()[p.offset + j] = float(rng.uniform()) - 0.5f;
        }
    }
    chunks.touch(c, rows);
    return a.values();
}
}  // namespace

TEST_CASE(
    "the row-restricted fold equals the whole-arena fold, and clear zeroes what was written") {
    const auto model = small_model();
    Chunks chunks;
    chunks.reset(model, 3);
    const std::vector<std::vector<ItemId>> rows = {{5, 9, 9, 250}, {9, 17}, {300, 5, 1}};
    for (int round = 0; round < 2; ++round) {  // the second round reuses cleared buffers
        CAPTURE(round);
        std::vector<Vector<float>> dense;
        for (std::size_t c = 0; c < 3; ++c) {
            chunks.clear(c);
            dense.push_back(fill_chunk(chunks, c, rows[c], 10 * round + c));
        }
        chunks.fold();
        const Vector<float> expected = (dense[0] + dense[1]) + dense[2];  // chunk order
        CHECK((chunks[0].params().values().array() == expected.array()).all());
        std::set<std::uint32_t> listed(chunks.rows().begin(), chunks.rows().end());
        CHECK(listed == std::set<std::uint32_t>{1, 5, 9, 17, 250, 300});
        CHECK(chunks.rows().size() == listed.size());  // no row twice
        CHECK(chunks.squared_norm() ==
              doctest::Approx(double(expected.cast<double>().squaredNorm())).epsilon(1e-6));
    }
    for (std::size_t c = 0; c < 3; ++c) chunks.clear(c);
    for (std::size_t c = 0; c < 3; ++c) CHECK(chunks[c].params().values().isZero(0));
}

TEST_CASE(
    "an encoded chunk decodes bit for bit, listed rows or whole, and bad messages are refused") {
    const auto model = small_model();
    Chunks a, b;
    a.reset(model, 2);
    b.reset(model, 2);
    const auto listed = fill_chunk(a, 0, {4, 77, 299}, 1);
    a.touch_all(1);
    a[1].params().assign(Vector<float>::Constant(listed.size(), 0.25f));
    std::vector<char> msg0, msg1;
    a.encode(0, msg0);
    a.encode(1, msg1);
    // Three rows (a count, ids, values) instead of the table's 301 rows of 8 floats.
    CHECK(msg1.size() - msg0.size() == (301 - 3) * 8 * 4 - 8 - 3 * 4);
    fill_chunk(b, 0, {2, 3}, 9);  // stale content that decode must replace
    for (std::size_t c = 0; c < 2; ++c) {
        const auto& msg = c ? msg1 : msg0;
        const char* p = msg.data();
        b.decode(c, p, msg.data() + msg.size());
        CHECK(p == msg.data() + msg.size());
        CHECK((b[c].params().values().array() == a[c].params().values().array()).all());
    }
    b.fold();
    CHECK(b.whole());

    auto refused = [&](std::vector<char> m) {
        const char* p = m.data();
        Chunks c;
        c.reset(model, 1);
        CHECK_THROWS_AS(c.decode(0, p, m.data() + m.size()), DataError);
        c.clear(0);  // a refused message leaves a buffer that can be cleared and reused
        CHECK(c[0].params().values().isZero(0));
    };
    refused(std::vector<char>(msg0.begin(), msg0.end() - 3));    // truncated
    const std::size_t ids_at = msg0.size() - 3 * 4 - 3 * 8 * 4;  // the three row ids
    auto bad = msg0;
    const std::uint32_t far = 5000;
    std::memcpy(bad.data() + ids_at + 4, &far, 4);
    refused(bad);  // row out of range
    auto twice = msg0;
    std::memcpy(twice.data() + ids_at + 8, msg0.data() + ids_at, 4);  // third id = first
    refused(twice);                                                   // a row twice
}
