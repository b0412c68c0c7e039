// Serving through the one handle (runtime/served_model.hpp): every model kind loads from its
// directory and answers; request options against a brute-force ranking of the model's own
// scores; one request and a batch give the same bits; answers from many std::threads at once
// equal the single-threaded ones (this binary also runs under ThreadSanitizer in CI).
#include <doctest/doctest.h>

#include <algorithm>
#include <seqrec/seqrec.hpp>
#include <thread>

#include "support/fixtures.hpp"
#include "support/temp_dir.hpp"

using namespace seqrec;
using seqrec::test::TempDir;

namespace {

const Split& data() {
    static const Split s = test::synthetic_split(40, 25, 3, 14);
    return s;
}

/// External id of internal item i: far from 1..N, so a mix-up cannot pass.
std::int64_t ext(Index i) { return 5000 + 7 * i; }
IdMap catalog(Index n) {
    IdMap m;
    for (Index i = 1; i <= n; ++i) m.add(ext(i));
    return m;
}

/// The models of every kind, small, with initialised (untrained) weights.
struct Kind {
    const char* label;
    const char* kind;
    nlohmann::json config;
};
std::vector<Kind> kinds() {
    const Index n = data().num_items;
    return {
        {"sasrec", "sasrec", {{"num_items", n}, {"maxlen", 8}, {"dim", 8}, {"heads", 2}}},
        {"mqsa", "sasrec", {{"num_items", n}, {"maxlen", 8}, {"dim", 8}, {"multi_query", true}}},
        {"rpesa", "sasrec", {{"num_items", n}, {"maxlen", 8}, {"dim", 8}, {"max_rel", 7}}},
        {"awrsr on sasrec",
         "sasrec",
         {{"num_items", n}, {"maxlen", 8}, {"dim", 8}, {"refine", "additive"}}},
        {"stosa", "stosa", {{"num_items", n}, {"maxlen", 8}, {"dim", 8}, {"heads", 2}}},
        {"awrsr on stosa",
         "stosa",
         {{"num_items", n}, {"maxlen", 8}, {"dim", 8}, {"refine", "stochastic"}}},
    };
}

/// Items of `scores` (N+1, entry 0 unused) best first, ties by lower id, among `allowed`
/// minus `excluded`: what an answer must be.
std::vector<Index> brute_force(const Vector<float>& scores, std::vector<Index> allowed,
                               const std::vector<Index>& excluded, Index k) {
    std::vector<Index> keep;
    for (Index i : allowed)
        if (std::find(excluded.begin(), excluded.end(), i) == excluded.end()) keep.push_back(i);
    std::sort(keep.begin(), keep.end());
    keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
    std::stable_sort(keep.begin(), keep.end(),
                     [&](Index a, Index b) { return scores(a) > scores(b); });
    if (Index(keep.size()) > k) keep.resize(std::size_t(k));
    return keep;
}

std::vector<Index> internal_ids(const RecommendResponse& r) {
    std::vector<Index> ids;
    for (const auto& x : r.items) ids.push_back(Index((x.item - 5000) / 7));
    return ids;
}

/// A request per training user (histories of 2..14 items), with some options on some.
std::vector<RecommendRequest> mixed_requests(Index count) {
    std::vector<RecommendRequest> rs(static_cast<std::size_t>(count));
    for (Index u = 0; u < count; ++u) {
        auto& r = rs[std::size_t(u)];
        for (ItemId i : data().train[std::size_t(u % data().num_users())])
            r.history.push_back(ext(i));
        r.k = 1 + u % 7;
        if (u % 3 == 1) r.exclude = {ext(1), ext(2), 99};
        if (u % 4 == 2) r.candidates = {ext(3), ext(5), ext(8), ext(13), ext(5), -4};
        if (u % 5 == 3) r.max_history = 2;
        if (u % 6 == 4) r.exclude_history = false;
    }
    return rs;
}

void check_same(const RecommendResponse& a, const RecommendResponse& b) {
    REQUIRE(a.items.size() == b.items.size());
    for (std::size_t j = 0; j < a.items.size(); ++j) {
        CHECK(a.items[j].item == b.items[j].item);
        CHECK(a.items[j].score == b.items[j].score);  // the same bits
    }
    CHECK(a.unknown == b.unknown);
}

}  // namespace

TEST_CASE("every model kind loads through one handle and answers like the typed model") {
    set_threads(1);
    const IdMap items = catalog(data().num_items);
    for (const Kind& k : kinds()) {
        INFO(std::string(k.label));
        auto model = make_model(k.kind, k.config);
        model->init(11);
        TempDir dir(std::string("served_") + k.label);
        model->save(dir.path, items, {{"note", k.label}});
        const auto served = load_served_model(dir.path);
        CHECK(served->info().kind == k.kind);
        CHECK(served->info().variant == model->variant());
        CHECK(served->info().num_items == data().num_items);
        CHECK(served->info().maxlen == 8);
        CHECK(served->info().num_parameters == model->num_parameters());
        CHECK(served->info().format_version == kCheckpointFormat);
        CHECK(served->info().meta["note"] == k.label);
        CHECK(served->info().to_json()["config"] == model->config());

        const auto requests = mixed_requests(70);  // two blocks, the second one short
        std::vector<RecommendResponse> direct(requests.size());
        const auto ws = model->make_serve_workspace();
        for (std::size_t r = 0; r < requests.size(); ++r)
            model->answer(items, &requests[r], 1, &direct[r], *ws);
        const auto batched = served->recommend_many(requests);
        REQUIRE(batched.size() == requests.size());
        for (std::size_t r = 0; r < requests.size(); ++r) {
            INFO("request " << r);
            INFO("direct vs batched");
            check_same(direct[r], batched[r]);
            INFO("served single vs batched");
            check_same(served->recommend(requests[r]), batched[r]);
            CHECK(!direct[r].items.empty());
        }
        // A workspace of another kind is refused, not misread.
        const auto other = make_model(std::string(k.kind) == "sasrec" ? "stosa" : "sasrec",
                                      {{"num_items", data().num_items}});
        const auto wrong = other->make_serve_workspace();
        RecommendResponse out;
        CHECK_THROWS_AS(served->recommend(requests[0], out, *wrong), ShapeError);
    }
}

TEST_CASE("request options: k, history exclusion, exclude, candidates, max_history, unknown ids") {
    set_threads(1);
    const Index N = data().num_items;
    const IdMap items = catalog(N);
    for (const char* kind : {"sasrec", "stosa"}) {
        INFO(kind);
        auto model = make_model(kind, {{"num_items", N}, {"maxlen", 6}, {"dim", 8}});
        model->init(5);
        TempDir dir(std::string("options_") + kind);
        model->save(dir.path, items);
        const auto served = load_served_model(dir.path);
        // Scores of the next item after a history, from the model itself (a one-request block).
        const auto scores_after = [&](const std::vector<Index>& h) {
            RecommendRequest all;
            for (Index i : h) all.history.push_back(ext(i));
            all.k = N;
            all.exclude_history = false;
            const auto r = served->recommend(all);
            REQUIRE(Index(r.items.size()) == N);
            Vector<float> s = Vector<float>::Constant(N + 1, 0.0f);
            for (const auto& x : r.items) s(Index((x.item - 5000) / 7)) = float(x.score);
            return s;
        };
        std::vector<Index> every(static_cast<std::size_t>(N));
        for (Index i = 1; i <= N; ++i) every[std::size_t(i - 1)] = i;
        const std::vector<Index> h = {4, 9, 2, 17, 9, 11, 3, 20};  // longer than maxlen 6
        const Vector<float> s = scores_after(h);

        RecommendRequest r;
        for (Index i : h) r.history.push_back(ext(i));
        r.k = 5;
        CHECK(internal_ids(served->recommend(r)) == brute_force(s, every, h, 5));
        r.exclude_history = false;
        CHECK(internal_ids(served->recommend(r)) == brute_force(s, every, {}, 5));
        r.exclude_history = true;
        r.exclude = {ext(1), ext(5), 123456};
        r.k = 40;  // more than there are items: every allowed one, in order
        auto got = served->recommend(r);
        CHECK(internal_ids(got) == brute_force(s, every, {4, 9, 2, 17, 11, 3, 20, 1, 5}, 40));
        CHECK(Index(got.items.size()) == N - 9);
        CHECK(got.unknown == std::vector<std::int64_t>{123456});
        r.candidates = {ext(6), ext(9), ext(6), ext(14), ext(1), ext(22), 7, ext(13)};
        r.k = 3;
        got = served->recommend(r);
        CHECK(internal_ids(got) == brute_force(s, {6, 14, 22, 13}, {}, 3));
        CHECK(got.unknown == std::vector<std::int64_t>{123456, 7});
        // Scores in the answer are the model's scores.
        for (const auto& x : got.items) CHECK(float(x.score) == s(Index((x.item - 5000) / 7)));

        // max_history: the same as sending the clipped history; clipped-off items not excluded.
        RecommendRequest clipped;
        for (Index i : h) clipped.history.push_back(ext(i));
        clipped.max_history = 3;
        clipped.k = N;
        RecommendRequest last3;
        last3.history = {ext(11), ext(3), ext(20)};
        last3.k = N;
        const auto a = served->recommend(clipped), b = served->recommend(last3);
        check_same(a, b);
        CHECK(Index(a.items.size()) == N - 3);

        // Unknown ids: reported in order, the rest answered; no known history, no items.
        RecommendRequest odd;
        odd.history = {-1, ext(4), 0, 999999};
        odd.exclude = {42};
        odd.k = 2;
        got = served->recommend(odd);
        CHECK(got.unknown == std::vector<std::int64_t>{-1, 0, 999999, 42});
        CHECK(got.items.size() == 2);
        odd.history = {-1, 3};
        got = served->recommend(odd);
        CHECK(got.items.empty());
        CHECK(got.unknown == std::vector<std::int64_t>{-1, 3, 42});
        odd.history = {ext(2)};
        odd.k = 0;
        CHECK(served->recommend(odd).items.empty());
        // Every item excluded: an empty list, not padding.
        RecommendRequest none;
        none.history = {ext(2)};
        none.candidates = {ext(2)};
        CHECK(served->recommend(none).items.empty());
    }
}

TEST_CASE("many std::threads share one handle and get the single-threaded answers") {
    set_threads(1);
    const IdMap items = catalog(data().num_items);
    for (const char* kind : {"sasrec", "stosa"}) {
        INFO(kind);
        auto model = make_model(kind, {{"num_items", data().num_items}, {"maxlen", 8}, {"dim", 8}});
        model->init(3);
        TempDir dir(std::string("threads_") + kind);
        model->save(dir.path, items);
        const auto served = load_served_model(dir.path);
        const auto requests = mixed_requests(90);
        std::vector<RecommendResponse> expected(requests.size());
        for (std::size_t r = 0; r < requests.size(); ++r)
            expected[r] = served->recommend(requests[r]);

        constexpr int kThreads = 4, kRounds = 3;
        std::vector<std::vector<RecommendResponse>> got(kThreads);
        std::vector<std::thread> pool;
        for (int t = 0; t < kThreads; ++t)
            pool.emplace_back([&, t] {
                auto& mine = got[std::size_t(t)];
                mine.resize(requests.size());
                const auto ws = served->make_workspace();  // odd threads: their own workspace
                for (int round = 0; round < kRounds; ++round)
                    for (std::size_t i = 0; i < requests.size(); ++i) {
                        const std::size_t r = (i + std::size_t(t) * 17) % requests.size();
                        if (t % 2)
                            served->recommend(requests[r], mine[r], *ws);
                        else
                            served->recommend(requests[r], mine[r]);  // the shared pool
                    }
            });
        for (auto& th : pool) th.join();
        for (int t = 0; t < kThreads; ++t)
            for (std::size_t r = 0; r < requests.size(); ++r) check_same(expected[r], got[t][r]);
    }
}

TEST_CASE("a catalogue scored in item chunks gives the answers of one pass") {
    // Serving streams a catalogue larger than its item chunk through a top-k heap per request:
    // chunks of 40 and 100 items (rounded up to 48 and 144) over 300 items must answer as one
    // pass does, bits of the scores included.
    set_threads(1);
    const Index n = 300;
    const IdMap items = catalog(n);
    auto requests = mixed_requests(70);
    for (std::size_t r = 0; r < requests.size(); ++r) {  // some picks from the whole catalogue
        requests[r].k = Index(1 + r % 40);
        if (r % 4 == 2)
            requests[r].candidates = {ext(3), ext(47), ext(48), ext(49), ext(200), ext(300)};
        if (r % 3 == 1) requests[r].exclude = {ext(1), ext(97), ext(250), 99};
    }
    auto check_kind = [&](const auto& model) {
        using M = std::decay_t<decltype(model)>;
        Recommender<M> whole(model, items);
        typename Recommender<M>::Workspace ws;
        std::vector<RecommendResponse> want(requests.size());
        whole.answer(requests.data(), requests.size(), want.data(), ws);
        for (Index chunk : {40, 100}) {
            CAPTURE(chunk);
            Recommender<M> chunked(model, items);
            chunked.set_item_chunk(chunk);
            typename Recommender<M>::Workspace cws;
            std::vector<RecommendResponse> got(requests.size());
            chunked.answer(requests.data(), requests.size(), got.data(), cws);
            for (std::size_t r = 0; r < requests.size(); ++r) {
                CAPTURE(r);
                check_same(want[r], got[r]);
                CHECK(!got[r].items.empty());
            }
        }
    };
    SASRec<float> sasrec(test::make_config<SASRecConfig>(
        {{"num_items", n}, {"maxlen", 8}, {"dim", 8}, {"heads", 2}}));
    Rng r1(3);
    sasrec.init(r1);
    check_kind(sasrec);
    Stosa<float> stosa(
        test::make_config<StosaConfig>({{"num_items", n}, {"maxlen", 8}, {"dim", 8}}));
    Rng r2(4);
    stosa.init(r2);
    check_kind(stosa);
}
