/// \file layers/attention_scores.hpp
/// The score policies of causal dot-product attention, by name (layers/score_policy.hpp has the
/// concept). A new policy is one header plus one line in each of the three lists below.
/// STOSA's Wasserstein attention scores distributions, not vectors (its inputs are two streams),
/// so it is its own layer (layers/wasserstein_attention.hpp) sharing the weight stage.
#pragma once

#include <string>
#include <variant>

#include "seqrec/core/error.hpp"
#include "seqrec/layers/alibi_scores.hpp"
#include "seqrec/layers/dot_product_scores.hpp"
#include "seqrec/layers/relative_position_scores.hpp"

namespace seqrec {

enum class AttentionKind { dot, relative, alibi };

inline const char* to_string(AttentionKind k) {
    switch (k) {
        case AttentionKind::dot:
            return "dot";
        case AttentionKind::relative:
            return "relative";
        case AttentionKind::alibi:
            return "alibi";
    }
    return "?";
}
inline AttentionKind parse_attention(const std::string& s) {
    for (AttentionKind k : {AttentionKind::dot, AttentionKind::relative, AttentionKind::alibi})
        if (s == to_string(k)) return k;
    throw ConfigError("unknown attention '" + s + "' (known: dot, relative, alibi)");
}

/// What a block's attention scores with (MODELS.md 2.3, 7.2; ALiBi).
struct AttentionConfig {
    AttentionKind kind = AttentionKind::dot;
    Index max_rel = -1;        ///< relative: k_max >= 0
    bool rel_in_value = true;  ///< relative: R^V in the values too
};

template <typename T>
using AttentionScores =
    std::variant<DotProductScores<T>, RelativePositionScores<T>, AlibiScores<T>>;

template <typename T>
AttentionScores<T> make_attention_scores(const AttentionConfig& a, Index d, Index heads) {
    switch (a.kind) {
        case AttentionKind::dot:
            return DotProductScores<T>{};
        case AttentionKind::relative:
            return RelativePositionScores<T>(d, a.max_rel, a.rel_in_value);
        case AttentionKind::alibi:
            return AlibiScores<T>(heads);
    }
    throw ConfigError("unknown attention kind");
}

}  // namespace seqrec
