/// \file runtime/served_model.hpp
/// One handle for every saved model: `load_served_model(dir)` reads a model directory of any
/// registered kind (SASRec, MQSA, RPESA, STOSA, with or without AWRSR refinement) into an
/// immutable `std::shared_ptr<const ServedModel>` that answers requests (serve/request.hpp).
///
/// Concurrency contract: every member is const and may be called from any number of threads at
/// once. Scratch memory comes from the caller (`make_workspace`, one per thread) or from an
/// internal pool (one workspace per concurrent caller, created on first need and reused); in
/// steady state a call allocates nothing beyond what the caller's response lists need (for k
/// and candidate lists up to Recommender's kReservedTopK, 1,024 items; a longer one grows a
/// workspace once). A server
/// swaps models by replacing the shared_ptr (std::atomic_store); calls still running keep the old
/// model alive until they return.
#pragma once

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "seqrec/core/parallel.hpp"
#include "seqrec/runtime/registry.hpp"
#include "seqrec/serve/request.hpp"

namespace seqrec {

/// What a loaded model is, for logs and a server's /model endpoint.
struct ModelInfo {
    std::string directory, kind, variant, seqrec_version;
    int format_version = 0;
    Index num_items = 0, maxlen = 0, num_parameters = 0;
    nlohmann::json config, meta;  // the hyper-parameters, and what the trainer kept (dataset, ...)

    nlohmann::ordered_json to_json() const {
        nlohmann::ordered_json j;
        j["directory"] = directory;
        j["kind"] = kind;
        j["variant"] = variant;
        j["items"] = num_items;
        j["maxlen"] = maxlen;
        j["parameters"] = num_parameters;
        j["format_version"] = format_version;
        j["seqrec_version"] = seqrec_version;
        j["config"] = config;
        j["meta"] = meta;
        return j;
    }
};

class ServedModel {
public:
    ServedModel(std::unique_ptr<Model> model, IdMap items, ModelInfo info)
        : model_(std::move(model)), items_(std::move(items)), info_(std::move(info)) {
        free_.reserve(64);  // pushing a workspace back does not allocate below 64 callers
    }
    ServedModel(const ServedModel&) = delete;
    ServedModel& operator=(const ServedModel&) = delete;

    const ModelInfo& info() const { return info_; }
    const Model& model() const { return *model_; }
    const IdMap& items() const { return items_; }

    /// Scratch for the calls that take one; use each from one thread at a time.
    std::unique_ptr<ServeWorkspace> make_workspace() const {
        return model_->make_serve_workspace();
    }

    void recommend(const RecommendRequest& request, RecommendResponse& out,
                   ServeWorkspace& ws) const {
        model_->answer(items_, &request, 1, &out, ws);
    }
    /// With a pooled workspace.
    void recommend(const RecommendRequest& request, RecommendResponse& out) const {
        Lease lease(*this);
        recommend(request, out, *lease.ws);
    }
    RecommendResponse recommend(const RecommendRequest& request) const {
        RecommendResponse out;
        recommend(request, out);
        return out;
    }

    /// Makes the pool hold at least `n` idle workspaces (a server: one per serving thread), so
    /// that even the first calls allocate nothing.
    void reserve(std::size_t n) const {
        std::unique_lock<std::mutex> lock(mu_);
        while (free_.size() < n) {
            lock.unlock();
            auto ws = model_->make_serve_workspace();
            lock.lock();
            free_.push_back(std::move(ws));
        }
    }

    /// Many requests at once, in request order: blocks of kEvalBlock requests (one scoring GEMM
    /// each), in parallel over blocks on the library's threads (core/parallel.hpp).
    void recommend_many(const std::vector<RecommendRequest>& requests,
                        std::vector<RecommendResponse>& out) const {
        reserve(std::size_t(max_threads()));  // each thread holds one lease at a time
        out.resize(requests.size());
        const auto n = std::ptrdiff_t(requests.size());
        const std::ptrdiff_t blocks = (n + kEvalBlock - 1) / kEvalBlock;
        const std::ptrdiff_t block_size = kEvalBlock;
        parallel_for(blocks, 1, [&](std::ptrdiff_t b) {
            Lease lease(*this);
            const std::ptrdiff_t first = b * block_size;
            model_->answer(items_, requests.data() + first,
                           std::size_t(std::min(block_size, n - first)), out.data() + first,
                           *lease.ws);
        });
    }
    std::vector<RecommendResponse> recommend_many(
        const std::vector<RecommendRequest>& requests) const {
        std::vector<RecommendResponse> out;
        recommend_many(requests, out);
        return out;
    }

private:
    /// A pooled workspace for the length of one call.
    struct Lease {
        explicit Lease(const ServedModel& m) : owner(m) {
            {
                std::lock_guard<std::mutex> lock(m.mu_);
                if (!m.free_.empty()) {
                    ws = std::move(m.free_.back());
                    m.free_.pop_back();
                }
            }
            if (!ws) ws = m.model_->make_serve_workspace();  // outside the lock: it is slow
        }
        ~Lease() {
            std::lock_guard<std::mutex> lock(owner.mu_);
            owner.free_.push_back(std::move(ws));
        }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        const ServedModel& owner;
        std::unique_ptr<ServeWorkspace> ws;
    };

    std::unique_ptr<Model> model_;
    IdMap items_;
    ModelInfo info_;
    mutable std::mutex mu_;
    mutable std::vector<std::unique_ptr<ServeWorkspace>> free_;
};

/// Loads a model directory of any registered kind (runtime/registry.hpp); IoError naming the
/// file and the problem when it cannot.
inline std::shared_ptr<const ServedModel> load_served_model(const std::string& dir) {
    IdMap items;
    auto model = load_model(dir, &items);
    const nlohmann::json j = read_checkpoint_config(dir);
    ModelInfo info;
    info.directory = dir;
    info.kind = model->kind();
    info.variant = model->variant();
    if (j.contains("seqrec_version") && j["seqrec_version"].is_string())
        info.seqrec_version = j["seqrec_version"].get<std::string>();
    info.format_version = kCheckpointFormat;  // read_checkpoint_config accepts no other
    info.num_items = model->num_items();
    info.maxlen = model->maxlen();
    info.num_parameters = model->num_parameters();
    info.config = model->config();
    info.meta = j.contains("meta") ? j["meta"] : nlohmann::json::object();
    return std::make_shared<const ServedModel>(std::move(model), std::move(items), std::move(info));
}

}  // namespace seqrec
