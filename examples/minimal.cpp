// The README's minimal example: train SASRec on the built-in synthetic data, evaluate, recommend.
#include <cstdio>
#include <seqrec/seqrec.hpp>

int main() {
    using namespace seqrec;
    const Dataset data = synthetic_dataset();  // or read_dataset("ratings.txt", DataFormat::lines)
    const Split split = leave_one_out(data);

    SASRecConfig config;
    config.num_items = data.num_items();
    config.maxlen = 50;
    SASRec<float> model(config);
    Rng rng(42);
    model.init(rng);

    TrainOptions options;
    options.epochs = 5;
    options.loss = LossKind::ce;
    Trainer<SASRec<float>>(options).fit(model, split);

    const Metrics test = evaluate(model, split, /*test=*/true);
    std::printf("test NDCG@10 = %.4f\n", test.get("NDCG@10"));

    Recommender<SASRec<float>> recommender(model, data.items);
    Recommender<SASRec<float>>::Workspace ws;  // one per thread; reuse it
    RecommendRequest request;
    request.history = {1, 2, 3};  // external item ids, oldest first
    request.k = 5;
    for (const auto& r : recommender.recommend(request, ws).items)
        std::printf("item %lld  score %.3f\n", static_cast<long long>(r.item), r.score);
}
