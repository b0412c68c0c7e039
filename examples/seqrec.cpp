// seqrec command-line program: train, evaluate and serve sequential recommenders.
//   seqrec train     [--data FILE] [options] [--save MODEL_DIR]   -> one JSON line on stdout
//   seqrec eval      --load MODEL_DIR --data FILE                 -> one JSON line on stdout
//   seqrec recommend --load MODEL_DIR --history "i1 i2" [--k 10]  -> JSON list on stdout
// Progress goes to stderr; errors are one line on stderr and a non-zero exit status.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <seqrec/seqrec.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>
#ifdef SEQREC_WITH_MPI
#include <seqrec/train/mpi_process_group.hpp>
#endif

namespace {

using namespace seqrec;
using Json = nlohmann::ordered_json;

/// Each command's usage: `seqrec --help` prints them all, `seqrec COMMAND --help` its own. The
/// flags named in a command's text are the ones an unknown flag is matched against.
struct CommandUsage {
    const char* name;
    const char* text;
    bool reads_data;  // takes the reading options below
};
const CommandUsage kCommands[] = {
    {"train",
     R"(  seqrec train [--recipe NAME] [--data FILE] [reading options below] [--config RUN.json]
               [--epochs N] [--maxlen N] [--dim N] [--blocks N] [--heads N] [--dropout X]
               [--loss bce|ce|sampled-ce|bpr] [--lr X] [--batch N] [--threads N] [--seed N]
               [--negatives K] [--sampler uniform|popularity]  (sampled-ce: K negatives per
                                        batch, log-Q corrected; for catalogues of 10^5+ items)
               [--lazy-adam 1]  (Adam updates only the item rows a batch touched)
               [--save MODEL_DIR] [--eval full|sampled] [--patience N] [--metric NAME]
               [--eval-every N] [--beta2 X] [--l2-emb X] [--weight-decay X] [--reg X]
               [--activation relu|gelu|elu] [--max-eval-users N] [--quiet]
               [--log FILE.jsonl]  (one JSON line per epoch: loss, grad_norm, seconds, metrics)
               [--checkpoint-every N]  (with --save: a resumable checkpoint every N epochs,
                                        default 1; 0 = only at the end)
  seqrec train --resume MODEL_DIR [--data FILE ...] [--epochs N] [--save DIR]
               (continues a saved run to exactly the model an uninterrupted run gives)
               MQSA:  [--L 3] [--alpha 0.5]        RPESA: [--max-rel N] [--no-abs-pos 1]
               attention scores: [--attention dot|relative|alibi]  (relative = RPESA)
               distillation: [--distill none|ted|cad] [--tau 0.1] [--lambda-kd 0.1]
                             [--graph transition|cooccurrence] [--graph-window truncated|full]
               AWRSR: [--refine none|simple|value|additive|stochastic] [--refine-init host|identity]
                      [--refine-scale X]   (stochastic = M4, STOSA only)
               STOSA: [--pvn 0.005] [--attn-dropout X] [--mean-passthrough 0|1]
      recipes (--recipe, or --model as a synonym): @RECIPES@
      without --data: trains on the built-in synthetic dataset
  mpirun -np R seqrec train|eval ...   (built with MPI: R processes, each with the whole data,
               share every batch and the evaluation; the same results as one process)
)",
     true},
    {"eval",
     R"(  seqrec eval --load MODEL_DIR --data FILE [reading options] [--eval full|sampled] [--threads N]
               [--max-eval-users N]
)",
     true},
    {"recommend",
     R"(  seqrec recommend --load MODEL_DIR (--history "i1 i2 ..." | --requests FILE) [--k N]
               [--keep-history] [--exclude "i1 ..."] [--candidates "i1 ..."]
               [--max-history N] [--threads N]
               (unknown item ids are listed on stderr; --candidates ranks only those items)
)",
     false},
    {"info",
     R"(  seqrec info --load MODEL_DIR          -> the model's kind, sizes and settings as JSON
)",
     false},
    {"attention",
     R"(  seqrec attention --load MODEL_DIR --history "i1 i2 ..." [--last 20] [--out FILE.svg]
               (heat maps of every layer's and head's attention over the last positions;
                AWRSR models also show the refined matrix)
)",
     false},
    {"plot",
     R"(  seqrec plot RUN.jsonl [RUN2.jsonl ...] [--metric NDCG@10] [--labels "a,b"] [--title T]
               [--with-grad-norm] [--out FILE.svg]
               (training loss and a validation metric per epoch from `train --log` files, as SVG)
)",
     false},
    {"convert", R"(  seqrec convert --data FILE [reading options] --out FILE.txt
               (writes the data as it is read, one `user item item ...` line per user)
)",
     true},
};
const char* kReadingOptions = R"(  reading options:
      --format lines|pairs|csv|tsv|movielens|recbole   (default from the file name: .csv, .tsv,
               .inter = recbole, .dat = movielens (user::item::rating::timestamp), else lines)
      --merge-duplicate-users    (lines: append a repeated user's line instead of an error)
      --user-column NAME --item-column NAME --time-column NAME   (csv/tsv/recbole header names)
      --drop-consecutive-repeats (drop an item equal to the user's previous one, after sorting)
      --k-core K                 (keep users and items with >= K interactions, until stable)
)";

const CommandUsage* find_command(const std::string& name) {
    for (const auto& c : kCommands)
        if (name == c.name) return &c;
    return nullptr;
}

/// The usage of one command, or of all when `command` is null.
std::string usage_text(const CommandUsage* command) {
    std::string text = "usage:\n";
    bool data = false;
    for (const auto& c : kCommands)
        if (!command || command == &c) {
            text += c.text;
            data = data || c.reads_data;
        }
    if (data) text += kReadingOptions;
    std::string names;
    for (const auto& r : recipes()) names += (names.empty() ? "" : ", ") + std::string(r.name);
    const std::string mark = "@RECIPES@";
    const auto at = text.find(mark);
    if (at != std::string::npos) text.replace(at, mark.size(), names);
    return text;
}

/// Every --flag a usage text names.
std::set<std::string> flags_in(const std::string& usage) {
    std::set<std::string> flags;
    for (std::size_t at = usage.find("--"); at != std::string::npos; at = usage.find("--", at)) {
        at += 2;
        std::size_t end = at;
        while (end < usage.size() && (std::isalnum(static_cast<unsigned char>(usage[end])) ||
                                      (usage[end] == '-' && end > at)))
            ++end;
        if (end > at && std::isalpha(static_cast<unsigned char>(usage[at])))
            flags.insert(usage.substr(at, end - at));
        at = end;
    }
    return flags;
}

/// Edits (insert, delete, replace, swap two neighbours) that turn a into b.
std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
    for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
    for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i)
        for (std::size_t j = 1; j <= b.size(); ++j) {
            d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1,
                                d[i - 1][j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
                d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
        }
    return d[a.size()][b.size()];
}

/// The processes of an mpirun launch (nullptr: this process alone). Only rank 0 prints, logs
/// and saves.
ProcessGroup* g_group = nullptr;
bool lead_process() { return !g_group || g_group->rank() == 0; }

/// Usage errors exit with status 2.
struct UsageError : Error {
    using Error::Error;
};

/// Flags as strings. Typed getters validate and name the flag; check_all_used catches typos.
class Options {
public:
    /// `command` names the command whose usage lists the known flags.
    Options(int argc, char** argv, int first, const std::string& command)
        : command_(command), known_(flags_in(usage_text(find_command(command)))) {
        for (int i = first; i < argc; ++i) {
            std::string a = argv[i];
            if (a.rfind("--", 0) != 0) throw UsageError("unexpected argument '" + a + "'");
            a = a.substr(2);
            if (a == "quiet" || a == "keep-history" || a == "merge-duplicate-users" ||
                a == "with-grad-norm" || a == "drop-consecutive-repeats") {
                flags_[a] = "true";
                continue;
            }
            if (i + 1 >= argc) {
                if (!known_.count(a)) throw UsageError(unknown_flag(a));
                throw UsageError("--" + a + " needs a value");
            }
            flags_[a] = argv[++i];
        }
    }
    bool has(const std::string& k) const { return flags_.count(k) > 0; }
    std::string str(const std::string& k, const std::string& def) const {
        used_.insert(k);
        auto it = flags_.find(k);
        return it != flags_.end() ? it->second : def;
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
        if (pos != s.size()) throw UsageError("--" + k + " = '" + s + "' is not an integer");
        if (v < lo || v > hi)
            throw UsageError("--" + k + " = " + s + " must be in [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]");
        return v;
    }
    double real(const std::string& k) const {
        const std::string s = str(k, "");
        std::size_t pos = 0;
        double v = 0;
        try {
            v = std::stod(s, &pos);
        } catch (...) {
            pos = std::string::npos;
        }
        if (pos != s.size() || !std::isfinite(v))
            throw UsageError("--" + k + " = '" + s + "' is not a number");
        return v;
    }
    /// Every given flag must have been read by the command (catches typos).
    void check_all_used() const {
        for (const auto& [k, v] : flags_)
            if (!used_.count(k)) throw UsageError(unknown_flag(k));
    }

private:
    /// "unknown flag --epoch; did you mean --epochs?" when a known flag is a typo away.
    std::string unknown_flag(const std::string& flag) const {
        std::string best;
        std::size_t best_distance = 0;
        auto consider = [&](const std::string& known) {
            const std::size_t d = edit_distance(flag, known);
            if (best.empty() || d < best_distance) {
                best = known;
                best_distance = d;
            }
        };
        for (const auto& k : known_) consider(k);
        for (const auto& k : used_) consider(k);
        std::string message = "unknown flag --" + flag;
        if (!best.empty() && best_distance <= std::max<std::size_t>(2, flag.size() / 3))
            return message + "; did you mean --" + best + "?";
        return message + " ('seqrec " + command_ + " --help' lists its flags)";
    }

    std::string command_;
    std::set<std::string> known_;
    std::map<std::string, std::string> flags_;
    mutable std::set<std::string> used_;
};

DataFormat format_for(const Options& o, const std::string& path) {
    if (!o.has("format")) return data_format_for_path(path);
    return parse_data_format(o.str("format", ""));
}

ReadOptions read_options(const Options& o) {
    ReadOptions r;
    r.merge_duplicate_users = o.str("merge-duplicate-users", "false") == "true";
    r.user_column = o.str("user-column", "");
    r.item_column = o.str("item-column", "");
    r.time_column = o.str("time-column", "");
    r.drop_consecutive_repeats = o.str("drop-consecutive-repeats", "false") == "true";
    r.k_core = o.integer("k-core", 0, 0, 1L << 30);
    return r;
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

nlohmann::json read_json_file(const std::string& path) {
    const std::string text = read_file(path);
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
        throw ConfigError(path + ": not valid JSON: " + e.what());
    }
}

/// The JSON key a flag sets in a section whose defaults are `defaults`: '-' becomes '_', with a
/// few synonyms ("--blocks" is "blocks" for SASRec and "layers" for STOSA). "" when none.
std::string flag_key(const std::string& flag, const nlohmann::json& defaults) {
    static const std::map<std::string, std::vector<std::string>> special = {
        {"blocks", {"blocks", "layers"}},
        {"L", {"query_window"}},
        {"pvn", {"pvn_weight"}},
        {"no-abs-pos", {"abs_pos"}},
        {"refine-init", {"refine_identity_init"}},
        {"reg", {"weight_decay"}},
        {"lambda-cad", {"lambda_kd"}}};
    std::string plain = flag;
    for (auto& ch : plain)
        if (ch == '-') ch = '_';
    const auto it = special.find(flag);
    for (const auto& key : it != special.end() ? it->second : std::vector<std::string>{plain})
        if (defaults.contains(key)) return key;
    return "";
}

/// The flags that set model fields and training fields (apply_flags); `--resume` refuses them.
const std::vector<const char*> kModelFlags = {
    "maxlen",      "dim",          "blocks",       "heads",   "dropout",         "activation",
    "L",           "alpha",        "attention",    "max-rel", "no-abs-pos",      "refine",
    "refine-init", "refine-scale", "attn-dropout", "pvn",     "mean-passthrough"};
const std::vector<const char*> kTrainFlags = {
    "epochs",  "batch",          "seed",       "patience",     "eval-every",
    "lr",      "beta2",          "l2-emb",     "weight-decay", "reg",
    "tau",     "lambda-kd",      "lambda-cad", "loss",         "metric",
    "eval",    "max-eval-users", "graph",      "graph-window", "negatives",
    "sampler", "lazy-adam"};

/// The given `flags` onto a config section, each parsed by the JSON type of its default.
/// `what` names the section in the error for a flag it does not have.
void apply_flags(const Options& o, const std::vector<const char*>& flags,
                 const nlohmann::json& defaults, nlohmann::json& out, const std::string& what,
                 long min_integer) {
    for (const char* flag : flags) {
        if (!o.has(flag)) continue;
        const std::string key = flag_key(flag, defaults);
        if (key.empty())
            throw UsageError(std::string("--") + flag + " is not an option of " + what);
        const nlohmann::json& d = defaults[key];
        if (key == "refine_identity_init") {
            const std::string v = o.str(flag, "");
            if (v != "host" && v != "identity")
                throw UsageError("--refine-init must be host or identity, got '" + v + "'");
            out[key] = v == "identity";
        } else if (key == "abs_pos") {
            out[key] = o.integer(flag, 0, 0, 1) == 0;
        } else if (d.is_boolean()) {
            out[key] = o.integer(flag, 0, 0, 1) == 1;
        } else if (d.is_number_integer()) {
            out[key] = o.integer(flag, 0, min_integer, 1L << 62);
        } else if (d.is_number()) {
            out[key] = o.real(flag);
        } else {
            out[key] = o.str(flag, "");
        }
    }
}

/// recipe < --config file < flags. Returns the run and the recipe's name.
RunConfig run_config(const Options& o, Index num_items, std::string& recipe_name) {
    nlohmann::json file;
    const std::string resume = o.str("resume", "");
    if (!resume.empty()) {  // the saved run's own settings; only --epochs may extend it
        std::vector<const char*> fixed = {"config", "recipe", "model", "distill"};
        fixed.insert(fixed.end(), kModelFlags.begin(), kModelFlags.end());
        for (const char* f : kTrainFlags)
            if (std::string(f) != "epochs") fixed.push_back(f);
        for (const char* f : fixed)
            if (o.has(f))
                throw UsageError(std::string("--resume continues the saved run with its own "
                                             "settings: --") +
                                 f + " cannot be given (only --epochs, to extend it)");
    }
    const std::string path = resume.empty() ? o.str("config", "") : resume + "/config.json";
    if (!path.empty()) file = read_json_file(path);
    if (!path.empty() && !file.is_object())
        throw ConfigError(path + ": expected a JSON object {\"model\", \"config\", \"train\"}");
    if (o.has("recipe") && o.has("model"))
        throw UsageError("--model is a synonym of --recipe; give one of them");
    recipe_name = o.str("recipe", o.str("model", ""));
    if (recipe_name.empty() && !path.empty() && file.contains("recipe")) {
        if (!file["recipe"].is_string()) throw ConfigError(path + ": /recipe must be a string");
        recipe_name = file["recipe"].get<std::string>();
    }
    if (recipe_name.empty()) recipe_name = file.contains("model") ? "" : "sasrec";
    RunConfig rc;
    if (!recipe_name.empty()) {
        try {
            rc = recipe(recipe_name, num_items);
        } catch (const ConfigError& e) {
            throw UsageError(e.what());
        }
    }
    const nlohmann::json recipe_model = rc.model;
    if (!path.empty()) {
        const auto kind = file.find("model");
        if (file.contains("config"))  // named by this file before the layers merge
            check_json_fields(
                file["config"],
                model_factory(kind != file.end() && kind->is_string() ? kind->get<std::string>()
                                                                      : rc.kind)
                    .defaults(),
                path + ": /config");
        rc = overlay_run_config(file, std::move(rc), path);
        if (recipe_name.empty())
            rc.model = [&] {  // no recipe: the kind's defaults under the file
                nlohmann::json m = model_factory(rc.kind).defaults();
                m.update(rc.model);
                return m;
            }();
        // The file's values must hold on their own, even where a flag below replaces them.
        nlohmann::json probe = rc.model;
        probe["num_items"] = num_items;
        const std::string variant = make_model(rc.kind, probe, path + ": /config")->variant();
        const auto cfg = file.find("config");
        if (cfg != file.end() && cfg->contains("variant") && (*cfg)["variant"] != variant)
            throw ConfigError(path + ": /config/variant is " + (*cfg)["variant"].dump() +
                              " but the other fields describe \"" + variant + "\"");
    }
    apply_flags(o, kModelFlags, model_factory(rc.kind).defaults(), rc.model,
                "model kind '" + rc.kind + "'", -1);
    rc.model["num_items"] = num_items;
    // RPESA's k_max follows the window (n - 1) unless it was given.
    const auto rel = recipe_model.find("max_rel");
    if (rel != recipe_model.end() && rel->get<Index>() >= 0 && rc.model["max_rel"] == *rel &&
        recipe_model["maxlen"].get<Index>() - 1 == rel->get<Index>())
        rc.model["max_rel"] = rc.model["maxlen"].get<Index>() - 1;
    nlohmann::json t = nlohmann::json::object();
    apply_flags(o, kTrainFlags, to_json(rc.train), t, "training", 0);
    if (o.has("distill")) {
        const std::string d = o.str("distill", "");
        if (d != "none" && d != "ted" && d != "cad")
            throw UsageError("--distill must be none, ted or cad, got '" + d + "'");
        const bool mqsa = rc.model.value("multi_query", false);
        if ((d == "ted" && !mqsa) || (d == "cad" && mqsa))
            throw UsageError(d == "ted"
                                 ? "--distill ted is MQSA's (recipe mqsa); use cad"
                                 : "--distill cad is for single-tower models; MQSA uses ted");
        t["distill"] = d != "none";
    }
    rc.train = train_options_from_json(t, std::move(rc.train), "options");
    if ((o.has("L") || o.has("alpha")) && !rc.model.value("multi_query", false))
        throw UsageError("--L and --alpha are for MQSA (recipes mqsa, mqsa-ted)");
    return rc;
}

/// FNV-1a over the users, the items and every sequence, in external ids: `train --resume`
/// refuses data other than the run's.
std::string data_fingerprint(const Dataset& ds) {
    std::string bytes;
    auto put = [&](std::int64_t v) { bytes.append(reinterpret_cast<const char*>(&v), sizeof v); };
    for (Index u = 0; u < ds.num_users(); ++u) {
        put(ds.users.size() > u ? ds.users.external(std::int32_t(u + 1)) : u);
        put(-1);
        for (const ItemId i : ds.sequences[std::size_t(u)]) put(ds.items.external(i));
    }
    for (const auto e : ds.items.externals()) put(e);
    return std::to_string(detail::fnv1a(bytes));
}

/// "sasrec", "mqsa-ted", "rpesa-cad", "stosa+awr-value (mean passthrough)", ...
std::string model_label(const Model& m, const TrainOptions& t) {
    const nlohmann::json c = m.config();
    std::string name = m.variant();
    if (t.distill) name += c.value("multi_query", false) ? "-ted" : "-cad";
    if (c.value("mean_passthrough", false)) name += " (mean passthrough)";
    return name;
}

/// One progress line per epoch on stderr (the library itself never prints). `best`: the best
/// epoch so far of a resumed run.
TrainHooks progress_printer(const TrainOptions& t, Index best) {
    TrainHooks hooks;
    hooks.on_epoch = [metric = t.metric, patience = t.patience, best](const EpochLog& e) mutable {
        if (e.best) best = e.epoch;
        char valid[160] = "";
        if (e.validated)
            std::snprintf(valid, sizeof valid, "  valid %s %.4f HR@10 %.4f%s", metric.c_str(),
                          e.valid_metric, e.valid.get("HR@10"), e.best ? " *" : "");
        std::fprintf(stderr, "epoch %3ld  loss %.4f%s  %.2fs (train %.2fs, %.0f seq/s)\n",
                     long(e.epoch), e.loss, valid, e.seconds, e.train_seconds,
                     e.sequences_per_second);
        if (e.stopping)
            std::fprintf(stderr, "early stop: no %s gain in %ld epochs (best epoch %ld)\n",
                         metric.c_str(), long(patience), long(best));
    };
    return hooks;
}

int cmd_train(const Options& o) {
    set_threads(int(o.integer("threads", 0, 0, 1024)));
    Dataset ds;
    if (o.has("data")) {
        const std::string path = o.str("data", "");
        ds = read_dataset(path, format_for(o, path), read_options(o));
    } else {
        ds = synthetic_dataset();
    }
    const Split split = leave_one_out(ds);
    require_evaluable(split, o.str("data", "the synthetic dataset"));
    const std::string resume = o.str("resume", "");
    std::string recipe_name;
    const RunConfig rc = run_config(o, ds.num_items(), recipe_name);
    const bool verbose = o.str("quiet", "false") != "true" && lead_process();
    std::string save = o.str("save", resume);
    std::string log_path = o.str("log", "");
    if (!lead_process()) {  // only rank 0 writes
        save.clear();
        log_path.clear();
    }
    const long every = o.integer("checkpoint-every", 1, 0, 1L << 30);
    o.check_all_used();
    const TrainOptions& t = rc.train;
    const std::string data_id = data_fingerprint(ds);

    std::unique_ptr<Model> model;
    TrainState<float> state;
    if (!resume.empty()) {
        const nlohmann::json saved = read_checkpoint_config(resume);
        const nlohmann::json meta = saved.value("meta", nlohmann::json::object());
        if (!meta.is_object() || meta.value("data_fingerprint", "") != data_id)
            throw DataError(resume + ": was trained on other data (dataset '" +
                            (meta.is_object() ? meta.value("dataset", "?") : "?") +
                            "'): give the same --data and reading options to resume");
        recipe_name = meta.value("recipe", "");
        state = read_train_state<float>(resume);
        model = load_model(resume);
    } else {
        model = make_model(rc.kind, rc.model, "model config");
        model->init(t.seed);
    }
    model->check_training(t);
    std::unique_ptr<EpochLogWriter> log;
    if (!log_path.empty())  // fails before training
        log = std::make_unique<EpochLogWriter>(log_path, !resume.empty());
    if (!save.empty()) check_writable_directory(save);  // so does a bad --save
    const std::string label = model_label(*model, t);
    if (verbose)
        std::fprintf(
            stderr,
            "seqrec: %s: %ld users, %ld items, %ld interactions; %s (recipe %s) n=%ld, "
            "%ld parameters, loss %s, %d threads%s\n",
            ds.name.c_str(), long(ds.num_users()), long(ds.num_items()),
            long(ds.num_interactions()), label.c_str(),
            recipe_name.empty() ? "none" : recipe_name.c_str(), long(model->maxlen()),
            long(model->num_parameters()), to_string(t.loss), max_threads(),
            g_group ? (" x " + std::to_string(g_group->world()) + " processes").c_str() : "");
    if (verbose && state.epoch > 0)
        std::fprintf(stderr, "seqrec: resuming %s after epoch %ld (best epoch %ld)\n",
                     resume.c_str(), long(state.epoch), long(state.stopping.best_epoch));
    auto meta_of = [&](Index epochs, Index best_epoch) {
        nlohmann::json meta;
        meta["dataset"] = ds.name;
        meta["data_fingerprint"] = data_id;
        meta["model"] = label;
        meta["recipe"] = recipe_name;
        meta["epochs"] = epochs;
        meta["best_epoch"] = best_epoch;
        return meta;
    };
    TrainHooks hooks = verbose ? progress_printer(t, state.stopping.best_epoch) : TrainHooks{};
    hooks.group = g_group;
    hooks.on_epoch = [print = hooks.on_epoch, &log, &save, every, &model, &ds, &t, &state,
                      &meta_of](const EpochLog& e) {
        if (print) print(e);
        if (log) log->write(e);
        // A checkpoint to resume from; its weights are the best so far.
        if (!save.empty() && every > 0 && (e.epoch % every == 0 || e.stopping)) {
            nlohmann::json meta = meta_of(e.epoch, state.stopping.best_epoch);
            meta["running"] = true;
            model->save(save, ds.items, meta, to_json(t), &state);
        }
    };
    const TrainResult r = model->fit(split, t, hooks, &state);
    const Metrics test = model->evaluate(split, true, t.eval, g_group);
    if (!lead_process()) return 0;

    Json out;
    out["model"] = label;
    out["dataset"] = ds.name;
    out["loss"] = to_string(t.loss);
    out["epochs"] = r.epochs_run;
    out["best_epoch"] = r.best_epoch;
    out["train_seconds"] = r.train_seconds;
    out["protocol"] = protocol_json(t.eval);
    out["valid"] = r.best_valid.to_json();
    out["test"] = test.to_json();
    if (!save.empty()) {
        nlohmann::json meta = meta_of(r.epochs_run, r.best_epoch);
        meta["test"] = nlohmann::json::parse(test.to_json().dump());
        try {
            model->save(save, ds.items, meta, to_json(t), state.epoch > 0 ? &state : nullptr);
            out["saved"] = save;
        } catch (const Error& e) {  // the results still count: print them, then fail
            out["saved"] = nullptr;
            out["save_error"] = e.what();
            std::cout << out.dump() << std::endl;
            throw;
        }
    }
    std::cout << out.dump() << std::endl;
    return 0;
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
    const auto served = load_served_model(dir);
    const Model& model = served->model();
    Dataset ds = read_dataset(path, fmt, read_options(o));
    if (const Index dropped = remap_items(ds, served->items()))
        std::fprintf(stderr, "seqrec: %ld interactions with unknown items dropped\n",
                     long(dropped));
    const Split split = leave_one_out(ds);
    require_evaluable(split, path);
    Json out;
    out["model"] = model.variant();
    out["dataset"] = ds.name;
    out["protocol"] = protocol_json(e);
    out["valid"] = model.evaluate(split, false, e, g_group).to_json();
    out["test"] = model.evaluate(split, true, e, g_group).to_json();
    if (lead_process()) std::cout << out.dump() << std::endl;
    return 0;
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

int cmd_recommend(const Options& o) {
    set_threads(int(o.integer("threads", 0, 0, 1024)));
    const std::string dir = o.str("load", "");
    if (dir.empty()) throw UsageError("recommend needs --load MODEL_DIR");
    RecommendRequest base;
    base.k = o.integer("k", 10, 1, 1L << 30);
    base.exclude_history = o.str("keep-history", "false") != "true";
    base.exclude = parse_history(o.str("exclude", ""), "--exclude");
    base.candidates = parse_history(o.str("candidates", ""), "--candidates");
    if (o.has("candidates") && base.candidates.empty())  // the server's rule too
        throw UsageError("--candidates is empty: leave it out to rank every item");
    base.max_history = o.integer("max-history", 0, 0, 1L << 40);
    const std::string history = o.str("history", "");
    const std::string requests = o.str("requests", "");
    o.check_all_used();
    if (history.empty() == requests.empty())
        throw UsageError(
            "recommend needs exactly one of --history \"i1 i2 ...\" or --requests FILE");
    const auto served = load_served_model(dir);
    std::vector<RecommendRequest> batch;
    if (!history.empty()) {
        batch.push_back(base);
        batch.back().history = parse_history(history, "--history");
    } else {  // one history per line, answered in parallel, printed in order
        std::ifstream in(requests);
        if (!in) throw IoError(requests + ": cannot open for reading");
        std::string line;
        for (long n = 1; std::getline(in, line); ++n) {
            batch.push_back(base);
            batch.back().history = parse_history(line, requests + ":" + std::to_string(n));
        }
    }
    const auto answers = served->recommend_many(batch);
    for (std::size_t r = 0; r < answers.size(); ++r) {
        if (!answers[r].unknown.empty()) {
            std::string ids;
            for (const auto e : answers[r].unknown) ids += " " + std::to_string(e);
            std::fprintf(stderr, "seqrec: request %zu: %zu unknown item id(s), ignored:%s\n", r + 1,
                         answers[r].unknown.size(), ids.c_str());
        }
        std::cout << recommendations_json(answers[r].items).dump() << "\n";
    }
    std::cout.flush();
    return 0;
}

/// `text` to standard output, or to `path` (written atomically) when one is given.
void write_output(const std::string& path, const std::string& text) {
    if (path.empty())
        std::cout << text << std::flush;
    else
        write_file_atomically(path, [&](std::ostream& f) { f << text; });
}

int cmd_plot(const Options& o, const std::vector<std::string>& logs) {
    const std::string metric = o.str("metric", "NDCG@10");
    const std::string title = o.str("title", "");
    const std::string labels = o.str("labels", "");
    const std::string out = o.str("out", "");
    const bool grad = o.str("with-grad-norm", "false") == "true";
    o.check_all_used();
    if (logs.empty()) throw UsageError("plot needs one or more log files (seqrec train --log)");
    std::vector<std::string> names;
    {
        std::istringstream in(labels);
        for (std::string l; std::getline(in, l, ',');) names.push_back(l);
    }
    if (!labels.empty() && names.size() != logs.size())
        throw UsageError("--labels has " + std::to_string(names.size()) + " names for " +
                         std::to_string(logs.size()) + " logs");
    const std::string prefix = title.empty() ? "" : title + ": ";
    ChartPanel loss{prefix + "training loss", "epoch", "loss", {}};
    ChartPanel valid{prefix + "validation " + metric, "epoch", metric, {}};
    ChartPanel norm{prefix + "gradient norm", "epoch", "global L2 norm (mean over steps)", {}};
    for (std::size_t i = 0; i < logs.size(); ++i) {
        std::string label = names.empty() ? logs[i] : names[i];
        if (names.empty()) {  // the file's stem
            const auto slash = label.find_last_of('/');
            if (slash != std::string::npos) label = label.substr(slash + 1);
            const auto dot = label.rfind('.');
            if (dot != std::string::npos && dot > 0) label = label.substr(0, dot);
        }
        ChartSeries l{label, {}, {}}, v{label, {}, {}}, g{label, {}, {}};
        bool has_metric = false;
        for (const auto& e : read_epoch_log(logs[i])) {
            l.x.push_back(e.epoch);
            l.y.push_back(e.loss);
            g.x.push_back(e.epoch);
            g.y.push_back(e.grad_norm);
            const auto it = e.valid.find(metric);
            if (it == e.valid.end()) continue;
            has_metric = true;
            v.x.push_back(e.epoch);
            v.y.push_back(it->second);
        }
        if (!has_metric) throw DataError(logs[i] + ": no validated epoch has \"" + metric + "\"");
        loss.series.push_back(std::move(l));
        valid.series.push_back(std::move(v));
        norm.series.push_back(std::move(g));
    }
    std::vector<ChartPanel> panels = {loss, valid};
    if (grad) panels.push_back(norm);
    write_output(out, svg_line_chart(panels));
    return 0;
}

int cmd_attention(const Options& o) {
    const std::string dir = o.str("load", "");
    const std::string history = o.str("history", "");
    const long last = o.integer("last", 20, 1, 100000);
    const std::string out = o.str("out", "");
    o.check_all_used();
    if (dir.empty()) throw UsageError("attention needs --load MODEL_DIR");
    if (history.empty()) throw UsageError("attention needs --history \"i1 i2 ...\"");
    const auto served = load_served_model(dir);
    const IdMap& items = served->items();
    std::vector<ItemId> ids;
    std::vector<std::int64_t> unknown;
    for (const auto e : parse_history(history, "--history")) {
        if (const ItemId i = items.find(e))
            ids.push_back(i);
        else
            unknown.push_back(e);
    }
    if (!unknown.empty())
        std::fprintf(stderr, "seqrec: %zu unknown item id(s) left out of the history\n",
                     unknown.size());
    if (ids.empty()) throw UsageError("--history has no item the model knows");
    const auto maps = served->model().attention(ids);
    // The window the model read, and its last `last` positions.
    const std::size_t L = std::min<std::size_t>(ids.size(), std::size_t(served->info().maxlen));
    const std::size_t n = std::min<std::size_t>(L, std::size_t(last));
    std::vector<std::string> labels;
    for (std::size_t p = ids.size() - n; p < ids.size(); ++p)
        labels.push_back(std::to_string(items.external(ids[p])));
    const bool towers = !maps.empty() && maps.back().tower > 0;
    std::vector<HeatMap> panels;
    for (const auto& m : maps)
        for (const bool refined : {false, true}) {
            const Matrix<double>& w = refined ? m.refined : m.weights;
            if (w.size() == 0) continue;
            HeatMap h;
            h.title = (towers ? "tower " + std::to_string(m.tower + 1) + ", " : std::string()) +
                      "layer " + std::to_string(m.layer + 1) + ", head " +
                      std::to_string(m.head + 1) + (refined ? ": refined R" : ": A");
            h.values = w.bottomRightCorner(Index(n), Index(n));
            for (Index r = 0; r < Index(n); ++r)  // the causal mask: never attended
                for (Index c = r + 1; c < Index(n); ++c) h.values(r, c) = std::nan("");
            h.row_labels = labels;
            h.col_labels = labels;
            panels.push_back(std::move(h));
        }
    write_output(out, svg_heat_maps(panels, 2));  // AWRSR: A and R side by side
    return 0;
}

/// Reads an interaction log in any format (with the read options) and writes it in the lines
/// format, external ids kept: the preprocessing done once, its result a file to inspect.
int cmd_convert(const Options& o) {
    const std::string path = o.str("data", "");
    const std::string out = o.str("out", "");
    if (path.empty()) throw UsageError("convert needs --data FILE");
    if (out.empty()) throw UsageError("convert needs --out FILE");
    const DataFormat fmt = format_for(o, path);
    const ReadOptions r = read_options(o);
    o.check_all_used();
    const Dataset ds = read_dataset(path, fmt, r);
    write_file_atomically(out, [&](std::ostream& f) {
        for (Index u = 0; u < ds.num_users(); ++u) {
            f << ds.users.external(std::int32_t(u + 1));
            for (const ItemId i : ds.sequences[std::size_t(u)]) f << ' ' << ds.items.external(i);
            f << '\n';
        }
    });
    std::fprintf(stderr, "seqrec: wrote %s: %ld users, %ld items, %ld interactions\n", out.c_str(),
                 long(ds.num_users()), long(ds.num_items()), long(ds.num_interactions()));
    return 0;
}

int cmd_info(const Options& o) {
    const std::string dir = o.str("load", "");
    if (dir.empty()) throw UsageError("info needs --load MODEL_DIR");
    o.check_all_used();
    std::cout << load_served_model(dir)->info().to_json().dump(1) << std::endl;
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    auto is_help = [](const char* a) {
        return std::string(a) == "--help" || std::string(a) == "-h" || std::string(a) == "help";
    };
    if (argc < 2 || is_help(argv[1])) {  // `seqrec help train` is `seqrec train --help`
        const CommandUsage* one = argc > 2 ? find_command(argv[2]) : nullptr;
        std::fputs(usage_text(one).c_str(), argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const std::string cmd = argv[1];
    if (const CommandUsage* c = find_command(cmd))
        for (int i = 2; i < argc; ++i)
            if (is_help(argv[i]) && std::string(argv[i]) != "help") {
                std::fputs(usage_text(c).c_str(), stdout);
                return 0;
            }
#ifdef SEQREC_WITH_MPI
    const MpiLaunch mpi(&argc, &argv);
    g_group = mpi.group();
    auto fail = [&](int code) { return mpi.abort(code); };
#else
    if (launched_by_mpirun()) {
        std::fprintf(stderr,
                     "seqrec: error: started by mpirun, but this seqrec was built without MPI "
                     "(apt install libopenmpi-dev openmpi-bin, then build again)\n");
        return 2;
    }
    auto fail = [](int code) { return code; };
#endif
    try {
        if (!find_command(cmd)) {
            std::string names, near;
            for (const auto& c : kCommands) {
                names += (names.empty() ? "" : ", ") + std::string(c.name);
                if (near.empty() && edit_distance(cmd, c.name) <= 2) near = c.name;
            }
            throw UsageError("unknown command '" + cmd + "'" +
                             (near.empty() ? "" : "; did you mean '" + near + "'?") + " (" + names +
                             ")");
        }
        if (cmd == "plot") {  // log files are positional; the rest are options
            std::vector<std::string> logs;
            std::vector<char*> rest = {argv[0], argv[1]};
            for (int i = 2; i < argc; ++i) {
                if (std::string(argv[i]).rfind("--", 0) == 0) {
                    rest.push_back(argv[i]);
                    if (std::string(argv[i]) != "--with-grad-norm" && i + 1 < argc)
                        rest.push_back(argv[++i]);
                } else {
                    logs.push_back(argv[i]);
                }
            }
            return cmd_plot(Options(int(rest.size()), rest.data(), 2, cmd), logs);
        }
        const Options opts(argc, argv, 2, cmd);
        if (g_group && cmd != "train" && cmd != "eval")
            throw UsageError("only train and eval run under mpirun, not '" + cmd + "'");
        if (cmd == "train") return cmd_train(opts);
        if (cmd == "eval") return cmd_eval(opts);
        if (cmd == "recommend") return cmd_recommend(opts);
        if (cmd == "info") return cmd_info(opts);
        if (cmd == "convert") return cmd_convert(opts);
        if (cmd == "attention") return cmd_attention(opts);
        throw UsageError("unknown command '" + cmd + "'");
    } catch (const UsageError& e) {  // exit codes: usage and config 2, data / IO / model 1
        const std::string help = find_command(cmd) ? "seqrec " + cmd + " --help" : "seqrec --help";
        std::fprintf(stderr, "seqrec: %s\n(run '%s' for usage)\n", e.what(), help.c_str());
        return fail(2);
    } catch (const ConfigError& e) {
        std::fprintf(stderr, "seqrec: error: %s\n", e.what());
        return fail(2);
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr,
                     "seqrec: error: out of memory (the model or data is too large for this "
                     "machine: try a smaller --dim, --maxlen or --batch)\n");
        return fail(1);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "seqrec: error: %s\n", e.what());
        return fail(1);
    }
}
