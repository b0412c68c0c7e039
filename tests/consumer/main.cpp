// Smallest downstream use: build a model, score a history, print the best item.
#include <cstdio>
#include <seqrec/seqrec.hpp>

int main() {
    seqrec::SASRecConfig config;
    config.num_items = 10;
    seqrec::SASRec<float> model(config);
    seqrec::Rng rng(1);
    model.init(rng);
    seqrec::SASRec<float>::Cache cache;
    seqrec::Vector<float> scores;
    model.score_next({1, 2, 3}, scores, cache);
    Eigen::Index best = 1;
    for (Eigen::Index i = 2; i < scores.size(); ++i)
        if (scores(i) > scores(best)) best = i;
    std::printf("consumer ok: best item %ld\n", long(best));
    return scores.size() == 11 ? 0 : 1;
}
