// seqrec command-line program: train, evaluate and serve sequential recommenders.
//   seqrec train     [--data FILE] [options] [--save MODEL_DIR]   -> one JSON line on stdout
//   seqrec eval      --load MODEL_DIR --data FILE                 -> one JSON line on stdout
//   seqrec recommend --load MODEL_DIR --history "i1 i2" [--k 10]  -> JSON list on stdout
// Progress goes to stderr; errors are one line on stderr and a non-zero exit status.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <seqrec/seqrec.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace seqrec;
using Json = nlohmann::ordered_json;

const char* kUsage = R"(usage:
  seqrec train [--data FILE] [--format lines|pairs|csv] [--model sasrec|mqsa|rpesa|stosa]
               [--loss bce|ce]
               [--epochs N] [--maxlen N] [--dim N] [--blocks N] [--heads N] [--dropout X]
               [--lr X] [--batch N] [--threads N] [--seed N] [--config FILE.json]
               [--save MODEL_DIR] [--eval full|sampled] [--patience N] [--metric NAME]
               [--eval-every N] [--beta2 X] [--l2-emb X] [--weight-decay X]
               [--activation relu|gelu] [--max-eval-users N] [--quiet]
               MQSA:  [--L 3] [--alpha 0.5]        RPESA: [--max-rel N] [--no-abs-pos 1]
               distillation: [--distill none|ted|cad] [--tau 0.1] [--lambda-kd 0.1]
                             [--graph transition|cooccurrence] [--graph-window truncated|full]
               [--reg X] (L2 on all parameters, = --weight-decay)
               AWRSR: [--refine none|simple|value|additive|stochastic] [--refine-init host|identity]
                      [--refine-scale X]   (stochastic = M4, STOSA only)
               STOSA: [--pvn 0.005] [--attn-dropout X] [--mean-passthrough 0|1]
                      (defaults: maxlen 100, dim 64, 1 block, 4 heads, dropout 0.3, batch 256)
      without --data: trains on the built-in synthetic dataset
  seqrec eval --load MODEL_DIR --data FILE [--format F] [--eval full|sampled] [--threads N]
  seqrec recommend --load MODEL_DIR (--history "i1 i2 ..." | --requests FILE) [--k N]
               [--keep-history] [--threads N]
)";

/// Usage errors exit with status 2.
struct UsageError : Error {
    using Error::Error;
};

/// Options as strings: defaults < --config file < flags. Typed getters validate and name the key.
class Options {
public:
    Options(int argc, char** argv, int first) {
        for (int i = first; i < argc; ++i) {
            std::string a = argv[i];
            if (a.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + a + "'");
            a = a.substr(2);
            if (a == "quiet" || a == "keep-history") {
                flags_[a] = "true";
                continue;
            }
            if (i + 1 >= argc) throw UsageError("--" + a + " needs a value");
            flags_[a] = argv[++i];
        }
        if (flags_.count("config")) load_config(flags_["config"]);
    }
    bool has(const std::string& k) const { return flags_.count(k) || config_.count(k); }
    std::string str(const std::string& k, const std::string& def) const {
        used_.insert(k);
        if (auto it = flags_.find(k); it != flags_.end()) return it->second;
        if (auto it = config_.find(k); it != config_.end()) return it->second;
        return def;
    }
    long integer(const std::string& k, long def, long lo, long hi) const {
        const std::string s = str(k, std::to_string(def));
        std::size_t pos = 0;
        long v = 0;
        try {
            v = std::stol(s, &pos);
        } catch (...) {
            pos = std::string::npos;
        }
        if (pos != s.size()) throw UsageError(where(k) + " = '" + s + "' is not an integer");
        if (v < lo || v > hi)
            throw UsageError(where(k) + " = " + s + " must be in [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]");
        return v;
    }
    double real(const std::string& k, double def, double lo, double hi) const {
        const std::string s = str(k, "");
        if (s.empty() && !has(k)) return def;
        std::size_t pos = 0;
        double v = 0;
        try {
            v = std::stod(s, &pos);
        } catch (...) {
            pos = std::string::npos;
        }
        if (pos != s.size()) throw UsageError(where(k) + " = '" + s + "' is not a number");
        if (!(v >= lo && v <= hi))
            throw UsageError(where(k) + " = " + s + " must be in [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]");
        return v;
    }
    /// Every given option must have been read by the command (catches typos).
    void check_all_used() const {
        for (const auto& [k, v] : flags_)
            if (!used_.count(k) && k != "config") throw UsageError("unknown option --" + k);
        for (const auto& [k, v] : config_)
            if (!used_.count(k)) throw UsageError(config_path_ + ": unknown key \"" + k + "\"");
    }

private:
    std::string where(const std::string& k) const {
        return flags_.count(k) ? "--" + k : config_path_ + ": \"" + k + "\"";
    }
    void load_config(const std::string& path) {
        config_path_ = path;
        std::ifstream in(path);
        if (!in) throw IoError(path + ": cannot open config file");
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(in);
        } catch (const nlohmann::json::exception& e) {
            throw ConfigError(path + ": not valid JSON: " + e.what());
        }
        if (!j.is_object()) throw ConfigError(path + ": expected a JSON object of options");
        for (auto& [k, v] : j.items()) {
            std::string key = k;
            for (auto& ch : key)
                if (ch == '_') ch = '-';
            if (v.is_string())
                config_[key] = v.get<std::string>();
            else if (v.is_number() || v.is_boolean())
                config_[key] = v.dump();
            else
                throw ConfigError(path + ": \"" + k + "\" must be a string, number or boolean");
        }
    }
    std::map<std::string, std::string> flags_, config_;
    mutable std::set<std::string> used_;
    std::string config_path_;
};

DataFormat format_for(const Options& o, const std::string& path) {
    std::string def = "lines";
    if (path.size() > 4 &&
        (path.substr(path.size() - 4) == ".csv" || path.substr(path.size() - 4) == ".tsv"))
        def = "csv";
    return parse_data_format(o.str("format", def));
}

EvalOptions eval_options(const Options& o) {
    EvalOptions e;
    const std::string proto = o.str("eval", "full");
    if (proto != "full" && proto != "sampled")
        throw UsageError("--eval must be full or sampled, got '" + proto + "'");
    e.sampled = proto == "sampled";
    e.max_users = o.integer("max-eval-users", 0, 0, 1L << 40);
    return e;
}

Json protocol_json(const EvalOptions& e) {
    return e.sampled ? Json("sampled: target + 100 random unseen items (optimistic)")
                     : Json("full ranking over all items, history excluded");
}

/// "sasrec", "mqsa", "mqsa-ted", "rpesa-cad", "stosa+awr-value", ...
std::string model_label(const SASRecConfig& cfg, const TrainOptions& t) {
    std::string name = cfg.variant();
    if (t.distill) name += cfg.multi_query ? "-ted" : "-cad";
    return name;
}
std::string model_label(const StosaConfig& cfg, const TrainOptions&) {
    return cfg.variant() + (cfg.mean_passthrough ? " (mean passthrough)" : "");
}

/// Trains, tests once with the best validation weights, optionally saves; prints the JSON line.
template <typename Model, typename Config>
int train_and_report(const Config& cfg, const TrainOptions& t, const Dataset& ds,
                     const Split& split, const std::string& save) {
    Model model(cfg);
    Rng init({t.seed, 0x1A17});
    model.init(init);
    const std::string label = model_label(cfg, t);
    if (t.verbose)
        std::fprintf(stderr,
                     "seqrec: %s: %ld users, %ld items, %ld interactions; %s d=%ld n=%ld, "
                     "%ld parameters, loss %s, %d threads\n",
                     ds.name.c_str(), long(ds.num_users()), long(ds.num_items()),
                     long(ds.num_interactions()), label.c_str(), long(cfg.dim), long(cfg.maxlen),
                     long(param_count<float>(model)),
                     has_own_loss<Model>::value ? "bpr+pvn" : to_string(t.loss), max_threads());
    Trainer<Model> trainer(t);
    const TrainResult r = trainer.fit(model, split);
    const Metrics test = evaluate(model, split, true, t.eval);

    Json out;
    out["model"] = label;
    out["dataset"] = ds.name;
    out["loss"] = has_own_loss<Model>::value ? "bpr+pvn" : to_string(t.loss);
    out["epochs"] = r.epochs_run;
    out["best_epoch"] = r.best_epoch;
    out["train_seconds"] = r.train_seconds;
    out["protocol"] = protocol_json(t.eval);
    out["valid"] = r.best_valid.to_json();
    out["test"] = test.to_json();
    if (!save.empty()) {
        nlohmann::json meta;
        meta["dataset"] = ds.name;
        meta["model"] = label;
        meta["epochs"] = r.epochs_run;
        meta["best_epoch"] = r.best_epoch;
        meta["seed"] = t.seed;
        meta["test"] = nlohmann::json::parse(test.to_json().dump());
        save_checkpoint(save, model, ds.items, meta);
        out["saved"] = save;
    }
    std::cout << out.dump() << std::endl;
    return 0;
}

int cmd_train(const Options& o) {
    set_threads(int(o.integer("threads", 0, 0, 1024)));
    const std::string model_name = o.str("model", "sasrec");
    if (model_name != "sasrec" && model_name != "mqsa" && model_name != "rpesa" &&
        model_name != "stosa")
        throw UsageError("--model '" + model_name +
                         "' is not available (this build has: sasrec, mqsa, rpesa, stosa)");
    const bool stosa = model_name == "stosa";
    Dataset ds;
    if (o.has("data")) {
        const std::string path = o.str("data", "");
        ds = read_dataset(path, format_for(o, path));
    } else {
        ds = synthetic_dataset();
    }
    const Split split = leave_one_out(ds);
    const Refinement refine = parse_refinement(o.str("refine", "none"));
    const std::string refine_init = o.str("refine-init", "host");
    if (refine_init != "host" && refine_init != "identity")
        throw UsageError("--refine-init must be host or identity, got '" + refine_init + "'");

    SASRecConfig cfg;
    StosaConfig scfg;
    if (stosa) {  // STOSA's Beauty README setting by default (MODELS.md §10)
        scfg.num_items = ds.num_items();
        scfg.maxlen = o.integer("maxlen", 100, 1, 100000);
        scfg.dim = o.integer("dim", 64, 1, 100000);
        scfg.layers = o.integer("blocks", 1, 1, 1000);
        scfg.heads = o.integer("heads", 4, 1, 1000);
        scfg.dropout = o.real("dropout", 0.3, 0.0, 0.999);
        scfg.attn_dropout = o.real("attn-dropout", 0.0, 0.0, 0.999);
        scfg.pvn_weight = o.real("pvn", 0.005, 0.0, 1e6);
        scfg.mean_passthrough = o.integer("mean-passthrough", 0, 0, 1) == 1;
        scfg.refine = refine;
        scfg.refine_scale = o.real("refine-scale", 0.0, 0.0, 1e6);
        scfg.refine_identity_init = refine_init == "identity";
        scfg.check();
    } else {
        cfg.num_items = ds.num_items();
        cfg.maxlen = o.integer("maxlen", 50, 1, 100000);
        cfg.dim = o.integer("dim", 50, 1, 100000);
        cfg.blocks = o.integer("blocks", 2, 1, 1000);
        cfg.heads = o.integer("heads", 1, 1, 1000);
        cfg.dropout = o.real("dropout", 0.2, 0.0, 0.999);
        cfg.activation = parse_activation(o.str("activation", "relu"));
        if (model_name == "mqsa") {
            cfg.multi_query = true;
            cfg.query_window = o.integer("L", 3, 1, 100000);
            cfg.alpha = o.real("alpha", 0.5, 0.0, 1.0);
        }
        if (model_name == "rpesa") {
            cfg.max_rel = o.integer("max-rel", cfg.maxlen - 1, 0, 100000);
            cfg.abs_pos = o.integer("no-abs-pos", 0, 0, 1) == 0;
        }
        cfg.refine = refine;
        cfg.refine_scale = o.real("refine-scale", 0.0, 0.0, 1e6);
        cfg.refine_identity_init = refine_init == "identity";
        cfg.check();
    }

    TrainOptions t;
    t.epochs = o.integer("epochs", 200, 0, 1000000);
    t.batch = o.integer("batch", stosa ? 256 : 128, 1, 1000000);
    // MQSA-TED and RPESA-CAD train with full-softmax CE (MODELS.md 1.9); SASRec with BCE.
    t.loss = parse_loss(o.str("loss", model_name == "sasrec" || stosa ? "bce" : "ce"));
    t.adam.lr = o.real("lr", 1e-3, 1e-12, 10.0);
    t.adam.beta2 = o.real("beta2", stosa ? 0.999 : 0.98, 0.0, 0.999999);
    t.adam.l2_emb = o.real("l2-emb", 0.0, 0.0, 1e6);
    t.adam.weight_decay = o.real("weight-decay", 0.0, 0.0, 1e6);
    if (o.has("reg")) t.adam.weight_decay = o.real("reg", 0.0, 0.0, 1e6);
    const std::string distill = o.str("distill", "none");
    if (distill != "none" && distill != "ted" && distill != "cad")
        throw UsageError("--distill must be none, ted or cad, got '" + distill + "'");
    if (stosa && distill != "none") throw UsageError("--distill is for mqsa, rpesa and sasrec");
    t.distill = distill != "none";
    t.kd.tau = o.real("tau", 0.1, 1e-6, 1e6);
    t.kd.lambda = o.real(o.has("lambda-cad") ? "lambda-cad" : "lambda-kd", 0.1, 0.0, 1e6);
    const std::string graph = o.str("graph", "transition");
    if (graph != "transition" && graph != "cooccurrence")
        throw UsageError("--graph must be transition or cooccurrence, got '" + graph + "'");
    t.graph.symmetric = graph == "cooccurrence";
    const std::string gwin = o.str("graph-window", "truncated");
    if (gwin != "truncated" && gwin != "full")
        throw UsageError("--graph-window must be truncated or full, got '" + gwin + "'");
    t.graph.window = gwin == "truncated" ? cfg.maxlen : 0;  // MQSA-TED counts on the window (I11)
    t.seed = std::uint64_t(o.integer("seed", 42, 0, (1L << 62)));
    t.patience = o.integer("patience", 20, 0, 1000000);
    t.eval_every = o.integer("eval-every", 1, 1, 1000000);
    t.metric = o.str("metric", "NDCG@10");
    t.eval = eval_options(o);
    t.verbose = o.str("quiet", "false") != "true";
    const std::string save = o.str("save", "");
    o.check_all_used();
    if (metrics_from_ranks({}).get(t.metric) != metrics_from_ranks({}).get(t.metric))
        throw UsageError("--metric '" + t.metric +
                         "' is not one of HR@1/5/10/20, NDCG@5/10/20, MRR");
    if (stosa) return train_and_report<Stosa<float>>(scfg, t, ds, split, save);
    return train_and_report<SASRec<float>>(cfg, t, ds, split, save);
}

template <typename Model>
int eval_model(const std::string& dir, const std::string& path, DataFormat fmt,
               const EvalOptions& e) {
    IdMap items;
    const auto model = load_checkpoint<Model>(dir, &items);
    Dataset ds = read_dataset(path, fmt);
    // Re-express the data in the model's item ids; unknown items cannot be scored and are dropped.
    long dropped = 0;
    for (auto& seq : ds.sequences) {
        std::vector<ItemId> mapped;
        for (ItemId i : seq) {
            if (const auto m = items.find(ds.items.external(i)))
                mapped.push_back(m);
            else
                ++dropped;
        }
        seq = std::move(mapped);
    }
    if (dropped)
        std::fprintf(stderr, "seqrec: %ld interactions with unknown items dropped\n", dropped);
    ds.items = items;
    const Split split = leave_one_out(ds);
    Json out;
    out["model"] = model.config.variant();
    out["dataset"] = ds.name;
    out["protocol"] = protocol_json(e);
    out["valid"] = evaluate(model, split, false, e).to_json();
    out["test"] = evaluate(model, split, true, e).to_json();
    std::cout << out.dump() << std::endl;
    return 0;
}

/// The model class a saved directory holds ("sasrec" or "stosa").
std::string saved_kind(const std::string& dir) {
    return read_checkpoint_config(dir)["model"].get<std::string>();
}

int cmd_eval(const Options& o) {
    set_threads(int(o.integer("threads", 0, 0, 1024)));
    const std::string dir = o.str("load", "");
    const std::string path = o.str("data", "");
    if (dir.empty()) throw UsageError("eval needs --load MODEL_DIR");
    if (path.empty()) throw UsageError("eval needs --data FILE");
    const DataFormat fmt = format_for(o, path);
    const EvalOptions e = eval_options(o);
    o.check_all_used();
    if (saved_kind(dir) == "stosa") return eval_model<Stosa<float>>(dir, path, fmt, e);
    return eval_model<SASRec<float>>(dir, path, fmt, e);
}

std::vector<std::int64_t> parse_history(const std::string& text, const std::string& where) {
    std::vector<std::int64_t> h;
    std::istringstream in(text);
    std::string tok;
    while (in >> tok) h.push_back(detail::parse_id(tok, where, "item"));
    return h;
}

Json recommendations_json(const std::vector<Recommendation>& recs) {
    Json list = Json::array();
    for (const auto& r : recs) list.push_back({{"item", r.item}, {"score", r.score}});
    return list;
}

template <typename Model>
int serve(const std::string& dir, const std::string& history, const std::string& requests, long k,
          bool exclude) {
    IdMap items;
    const auto model = load_checkpoint<Model>(dir, &items);
    Recommender<Model> rec(model, items);
    if (!history.empty()) {
        typename Recommender<Model>::Workspace ws;
        const auto h = parse_history(history, "--history");
        std::cout << recommendations_json(rec.recommend(h, k, ws, exclude)).dump() << std::endl;
        return 0;
    }
    // Many requests at once: one history per line, answered in parallel, printed in order.
    std::ifstream in(requests);
    if (!in) throw IoError(requests + ": cannot open for reading");
    std::vector<std::vector<std::int64_t>> hs;
    std::string line;
    for (long n = 1; std::getline(in, line); ++n)
        hs.push_back(parse_history(line, requests + ":" + std::to_string(n)));
    for (const auto& r : rec.recommend_many(hs, k, exclude))
        std::cout << recommendations_json(r).dump() << "\n";
    std::cout.flush();
    return 0;
}

int cmd_recommend(const Options& o) {
    set_threads(int(o.integer("threads", 0, 0, 1024)));
    const std::string dir = o.str("load", "");
    if (dir.empty()) throw UsageError("recommend needs --load MODEL_DIR");
    const long k = o.integer("k", 10, 1, 1L << 30);
    const bool exclude = o.str("keep-history", "false") != "true";
    const std::string history = o.str("history", "");
    const std::string requests = o.str("requests", "");
    o.check_all_used();
    if (history.empty() == requests.empty())
        throw UsageError(
            "recommend needs exactly one of --history \"i1 i2 ...\" or --requests FILE");
    if (saved_kind(dir) == "stosa") return serve<Stosa<float>>(dir, history, requests, k, exclude);
    return serve<SASRec<float>>(dir, history, requests, k, exclude);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
        std::fputs(kUsage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const std::string cmd = argv[1];
    try {
        const Options opts(argc, argv, 2);
        if (cmd == "train") return cmd_train(opts);
        if (cmd == "eval") return cmd_eval(opts);
        if (cmd == "recommend") return cmd_recommend(opts);
        throw UsageError("unknown command '" + cmd + "' (train, eval, recommend)");
    } catch (const UsageError& e) {
        std::fprintf(stderr, "seqrec: %s\n(run 'seqrec --help' for usage)\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "seqrec: error: %s\n", e.what());
        return 1;
    }
}
