#pragma once
// A JSON document that remembers where every value and key came from, so that
// zone and config validation can point at FILE:LINE:COL. nlohmann::json does
// not keep positions, so the document is built from its SAX events.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/diagnostic.hpp"

namespace dnsd::zone::json {

// 1-based; columns count bytes, not characters.
struct Position {
    uint32_t line = 0;
    uint32_t column = 0;
};

enum class Kind : uint8_t { null, boolean, integer, real, string, array, object };

struct Member;

struct Value {
    Kind kind = Kind::null;
    Position position;  // of the value's first byte
    bool boolean = false;
    // Integers beyond int64_t are clamped to its maximum: every field that
    // takes an integer has a far smaller limit and reports it.
    int64_t integer = 0;
    double real = 0;  // also set for integers
    std::string string;
    std::vector<Value> items;     // array
    std::vector<Member> members;  // object, in file order, keys unique

    const Value* find(std::string_view key) const;
};

struct Member {
    std::string key;
    Position key_position;
    Value value;
};

// Parses `text` read from `file`. Malformed JSON returns nullopt with one
// diagnostic; a duplicate key is a diagnostic too, and the first one is kept.
std::optional<Value> parse(std::string_view text, const std::string& file,
                           core::Diagnostics& diagnostics);

// "an object", "a string", ... for messages.
std::string_view describe(Kind kind);

}  // namespace dnsd::zone::json
