#pragma once
// A JSON document that remembers where every value and key came from, so that
// zone and config validation can point at FILE:LINE:COL. nlohmann::json does
// not keep positions. A well-formed document is read by a strict reader that
// counts positions as it scans and allocates once per container, which a
// zone of a million names needs (3 s rather than 12 s through a tree built
// from nlohmann's SAX events); whatever that reader refuses is parsed again by
// nlohmann through its SAX events, so that every syntax error is reported in
// nlohmann's words at its position.
#include <cstdint>
#include <functional>
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
    // An object whose members were left in the text (see parse's
    // `deferred_key`): its bytes, from '{' to '}', and how many members it
    // has, duplicates included. for_each_member reads them.
    struct Deferred {
        std::string_view text;
        size_t members = 0;
    } deferred;

    const Value* find(std::string_view key) const;
};

struct Member {
    std::string key;
    Position key_position;
    Value value;
};

// Parses `text` read from `file`. Malformed JSON returns nullopt with one
// diagnostic; a duplicate key is a diagnostic too, and the first one is kept.
//
// With a `deferred_key`, the members of the root object's first member of
// that name, when it is an object, may be left in the text (Value::deferred)
// rather than built into the tree, so that a zone of a million names is read
// one name at a time: the text must then outlive the tree, and
// for_each_member reads them (reporting their duplicate keys then).
std::optional<Value> parse(std::string_view text, const std::string& file,
                           core::Diagnostics& diagnostics, std::string_view deferred_key = {});

// Calls `visit` with each member of the object `object` in file order, but
// for duplicate keys, which it reports as parse does; for a deferred object
// each member is built just for the call.
void for_each_member(const Value& object, const std::string& file, core::Diagnostics& diagnostics,
                     const std::function<void(const Member&)>& visit);

// "an object", "a string", ... for messages.
std::string_view describe(Kind kind);

}  // namespace dnsd::zone::json
