// libFuzzer target: the server's request bodies (single and batch), parsed and then answered by
// a small model, so any ids, k, candidate and exclude lists that parse are also served.
#include <cstdint>
#include <cstdlib>
#include <seqrec/io/config.hpp>
#include <seqrec/models/sasrec.hpp>
#include <seqrec/serve/recommender.hpp>
#include <seqrec/serve/request_json.hpp>

using namespace seqrec;

namespace {
struct Served {
    SASRec<float> model;
    IdMap items;
    Recommender<SASRec<float>>::Workspace ws;
    Served()
        : model(config_from_json<SASRecConfig>(
              {{"num_items", 20}, {"maxlen", 8}, {"dim", 8}, {"blocks", 1}}, "fuzz")) {
        Rng rng(1);
        model.init(rng);
        for (int i = 1; i <= 20; ++i) items.add(3 * i);  // external ids 3, 6, ..., 60
    }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Served s;
    RequestLimits limits;
    limits.max_k = 50;
    limits.max_items = 200;
    limits.max_requests = 16;
    try {
        const nlohmann::json j =
            parse_request_body(std::string(reinterpret_cast<const char*>(data), size));
        std::vector<RecommendRequest> requests;
        if (j.is_object() && j.contains("requests"))
            requests = requests_from_json(j, limits);
        else
            requests.push_back(request_from_json(j, limits));
        std::vector<RecommendResponse> out(requests.size());
        Recommender<SASRec<float>>(s.model, s.items)
            .answer(requests.data(), requests.size(), out.data(), s.ws);
        for (std::size_t r = 0; r < out.size(); ++r) {
            if (Index(out[r].items.size()) > requests[r].k) std::abort();
            for (const auto& x : out[r].items)
                if (s.items.find(x.item) == 0) std::abort();  // an item the model does not have
        }
        for (const auto& r : out) (void)response_to_json(r).dump();  // a batch may be empty
    } catch (const Error&) {
    }
    return 0;
}
