// The tables of docs/REPRODUCTION.md's MQSA-TED protocol section from the runs' result files
// (OUT_DIR/D-R-S.json, written by benchmarks/reproduce_mqsa_protocol.sh): every run, then per
// recipe the mean and sample sd over seeds, then paired comparisons by seed (Student's t on the
// per-seed differences, eval/significance.hpp). Metrics are rounded to --digits first, so the
// statistics are those of the figures as printed; they are kept in units of the last digit
// (integers), so differences of equal figures are exactly 0.
//   summarize_runs --runs OUT_DIR [--datasets Beauty] [--recipes sasrec-ce,mqsa,...]
//                  [--seeds 1,2,3] [--pairs B:A,...] [--digits 4]
// Default pairs: every recipe against the first, then mqsa-ted:mqsa and rpesa-cad:rpesa (what
// distillation adds). A run without its file is listed as missing, not guessed.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <seqrec/core/error.hpp>
#include <seqrec/eval/significance.hpp>
#include <string>
#include <vector>

#include "support/args.hpp"
#include "support/guarded_main.hpp"

using namespace seqrec;
using seqrec::bench::split_list;

namespace {
const std::vector<std::string> kMetrics = {"HR@5",   "HR@10",   "HR@20",
                                           "NDCG@5", "NDCG@10", "NDCG@20"};

struct Run {
    std::map<std::string, double> test;  ///< in units of the last printed digit (integers)
    long best_epoch = 0, epochs = 0;
    double train_seconds = 0;
};

/// Reads one result file; a malformed one is an error naming the file and what is wrong.
Run read_run(const std::string& path, double scale) {
    std::ifstream in(path);
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception& e) {
        throw DataError(path + ": not a JSON result file (" + e.what() + ")");
    }
    const auto field = [&](const nlohmann::json& obj, const std::string& key,
                           const std::string& where) -> const nlohmann::json& {
        if (!obj.is_object() || !obj.contains(key) || !obj[key].is_number())
            throw DataError(path + ": no number at " + where + key);
        return obj[key];
    };
    Run r;
    if (!j.contains("test")) throw DataError(path + ": no \"test\" metrics");
    for (const auto& m : kMetrics)
        r.test[m] = std::round(field(j["test"], m, "test.").get<double>() * scale);
    r.best_epoch = field(j, "best_epoch", "").get<long>();
    r.epochs = field(j, "epochs", "").get<long>();
    r.train_seconds = field(j, "train_seconds", "").get<double>();
    return r;
}

void header(const char* first, const char* last) {
    std::printf("| %s |", first);
    for (const auto& m : kMetrics) std::printf(" %s |", m.c_str());
    std::printf(" %s |\n|---|", last);
    for (std::size_t i = 0; i <= kMetrics.size(); ++i) std::printf("---:|");
    std::printf("\n");
}

int run_summary(int argc, char** argv) {
    bench::Args args(argc, argv,
                     "summarize_runs --runs OUT_DIR [--datasets Beauty] "
                     "[--recipes sasrec-ce,mqsa,mqsa-ted,rpesa,rpesa-cad] [--seeds 1,2,3] "
                     "[--pairs B:A,...] [--digits 4]");
    const std::string dir = args.text("runs", "");
    const auto datasets = split_list(args.text("datasets", "Beauty"));
    const auto recipes =
        split_list(args.text("recipes", "sasrec-ce,mqsa,mqsa-ted,rpesa,rpesa-cad"));
    const auto seeds = args.integers("seeds", "1,2,3");
    const std::string pairs_text = args.text("pairs", "");
    const long digits = args.integer("digits", 4);
    args.finish();
    if (dir.empty()) args.fail("--runs is required");
    if (recipes.empty()) args.fail("--recipes is empty");
    if (digits < 1 || digits > 12) args.fail("--digits must be 1..12");
    const double scale = std::pow(10.0, double(digits));

    std::vector<std::pair<std::string, std::string>> pairs;  // (B, A): B - A
    if (pairs_text.empty()) {
        for (std::size_t i = 1; i < recipes.size(); ++i) pairs.emplace_back(recipes[i], recipes[0]);
        const auto has = [&](const std::string& r) {
            for (const auto& x : recipes)
                if (x == r) return true;
            return false;
        };
        if (has("mqsa-ted") && has("mqsa")) pairs.emplace_back("mqsa-ted", "mqsa");
        if (has("rpesa-cad") && has("rpesa")) pairs.emplace_back("rpesa-cad", "rpesa");
    } else {
        for (const auto& p : split_list(pairs_text)) {
            const auto colon = p.find(':');
            if (colon == std::string::npos || colon == 0 || colon + 1 == p.size())
                args.fail("--pairs expects B:A entries, got '" + p + "'");
            pairs.emplace_back(p.substr(0, colon), p.substr(colon + 1));
        }
    }

    const int w = int(digits);
    for (const auto& d : datasets) {
        std::map<std::string, std::map<long, Run>> runs;  // recipe -> seed -> run
        std::vector<std::string> missing;
        for (const auto& r : recipes)
            for (long s : seeds) {
                const std::string path =
                    dir + "/" + d + "-" + r + "-" + std::to_string(s) + ".json";
                if (std::ifstream(path))
                    runs[r][s] = read_run(path, scale);
                else
                    missing.push_back(d + "-" + r + "-" + std::to_string(s));
            }
        std::printf("## %s (%s)\n\nTest split, full ranking, history excluded:\n\n", d.c_str(),
                    dir.c_str());
        header("model, seed", "best / last epoch, train s");
        for (const auto& r : recipes)
            for (const auto& [s, run] : runs[r]) {
                std::printf("| %s, %ld |", r.c_str(), s);
                for (const auto& m : kMetrics) std::printf(" %.*f |", w, run.test.at(m) / scale);
                std::printf(" %ld / %ld, %.0f |\n", run.best_epoch, run.epochs, run.train_seconds);
            }
        if (!missing.empty()) {
            std::printf("\nMissing (not finished or not run):");
            for (const auto& m : missing) std::printf(" %s", m.c_str());
            std::printf("\n");
        }

        bool any_repeated = false;
        for (const auto& r : recipes) any_repeated = any_repeated || runs[r].size() >= 2;
        if (any_repeated) {
            std::printf("\nMean (sample sd) over seeds:\n\n");
            header("model", "seeds");
        } else {
            // An sd needs two seeds; an empty table would read as a failure.
            std::printf("\nMean (sample sd) over seeds: no recipe has two or more seeds yet.\n");
        }
        for (const auto& r : recipes) {
            if (runs[r].size() < 2) continue;
            std::printf("| %s |", r.c_str());
            for (const auto& m : kMetrics) {
                std::vector<double> v;
                for (const auto& [s, run] : runs[r]) v.push_back(run.test.at(m));
                const MeanSd ms = mean_and_sd(v);
                std::printf(" %.*f (%.*f) |", w, ms.mean / scale, w, ms.sd / scale);
            }
            std::printf(" %zu |\n", runs[r].size());
        }

        std::printf(
            "\nPaired by seed: mean difference B - A (t, two-sided p, n - 1 degrees of "
            "freedom):\n\n");
        header("B - A", "seeds");
        for (const auto& [b, a] : pairs) {
            std::vector<long> both;
            for (const auto& [s, run] : runs[b])
                if (runs[a].count(s)) both.push_back(s);
            if (both.empty()) continue;
            std::printf("| %s - %s |", b.c_str(), a.c_str());
            for (const auto& m : kMetrics) {
                std::vector<double> va, vb;
                for (long s : both) {
                    va.push_back(runs[a][s].test.at(m));
                    vb.push_back(runs[b][s].test.at(m));
                }
                const PairedTest t = paired_t_test(va, vb);  // t and p do not depend on units
                if (t.tested())
                    std::printf(" %+.*f (t %.1f, p %.2g) |", w, t.mean / scale, t.t, t.p);
                else
                    std::printf(" %+.*f |", w, t.mean / scale);
            }
            std::printf(" %zu |\n", both.size());
        }
        std::printf("\n");
    }
    return 0;
}
}  // namespace

int main(int argc, char** argv) {
    return bench::guarded_main([&] { return run_summary(argc, argv); });
}
