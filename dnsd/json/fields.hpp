#pragma once
// Typed reads from a positioned JSON document for the zone and config loaders:
// each read either yields a value in range or reports, at the value's
// position, what is wrong and what to write instead.
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "dnsd/core/diagnostic.hpp"
#include "dnsd/json/json.hpp"

namespace dnsd::json {

using Words = std::span<const std::string_view>;

// `s` in double quotes, for messages.
std::string quote(std::string_view s);

// The word in `candidates` closest to `word` by edit distance, ignoring case.
std::string_view nearest(std::string_view word, Words candidates);

// The position of `word` in `words`.
std::optional<size_t> index_of(Words words, std::string_view word);

// "; did you mean "x"?" when a candidate is close, else "; use one of: a, b".
std::string suggest(std::string_view word, Words candidates);

// A list's items, or a single value standing for a list of one.
std::span<const Value> entries(const Value& value);

// Reports problems in one text into its diagnostics.
class Fields {
public:
    Fields(const Text& text, core::Diagnostics& diagnostics) : text_(text), diagnostics_(diagnostics) {}

    const Text& text() const { return text_; }
    void error(Offset at, std::string message);

    // Calls `visit` with each member of `object` (see for_each_member).
    void each_member(const Value& object, const std::function<void(const Member&)>& visit) {
        for_each_member(object, text_, diagnostics_, visit);
    }

    // Each key of `object` not in `known`: "unknown key "k" WHERE; did you mean ...".
    void known_keys(const Value& object, Words known, std::string_view where);
    // `value` is an object (else "NAME must be EXAMPLE") whose keys are `known`.
    bool object_of(const Value& value, Words known, std::string_view name, std::string_view example,
                   std::string_view where);

    // The member `key` of `object`, else "WHAT needs "KEY"; add "KEY": EXAMPLE".
    const Value* required(const Value& object, std::string_view key, std::string_view what, std::string_view example);
    // `value` is of `kind`, else "NAME must be EXPECTED".
    bool expect(const Value& value, Kind kind, std::string_view name, std::string_view expected);
    bool is_object(const Value& value, std::string_view name);
    const std::string* string(const Value& value, std::string_view name);
    std::optional<bool> boolean(const Value& value, std::string_view name);
    // A whole number in [min, max].
    std::optional<int64_t> integer(const Value& value, std::string_view name, int64_t min, int64_t max);
    // Any number in [min, max].
    std::optional<double> number(const Value& value, std::string_view name, double min, double max);
    // Seconds, possibly fractional, above zero and at most `max_s`, as milliseconds.
    std::optional<uint32_t> positive_seconds(const Value& value, std::string_view name, uint32_t max_s);

private:
    const Text& text_;
    core::Diagnostics& diagnostics_;
};

// Largest value for TTLs, weights and other 31-bit fields (RFC 2181 §8).
inline constexpr int64_t max_int31 = 2147483647;

}  // namespace dnsd::json
