#pragma once
// A JSON document that remembers where every value and key came from, so that
// zone and config validation can point at FILE:LINE:COL. simdjson's On Demand
// parser reads the text and the tree is built from its tokens, each value
// keeping the byte offset of its first byte; lines and columns are counted
// only when a diagnostic is written. Text that simdjson refuses is parsed
// again by nlohmann's parser, only to word the syntax error as it does.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "dnsd/core/diagnostic.hpp"

namespace dnsd::json {

// Where a value or key starts: its first byte's offset into the text.
// simdjson reads at most 4 GiB, so 32 bits hold any offset.
using Offset = uint32_t;

// 1-based; columns count bytes, not characters.
struct Position {
    uint32_t line = 0;
    uint32_t column = 0;
};

// The bytes past the end of a text that the parser may read (simdjson's
// SIMDJSON_PADDING).
inline constexpr size_t padding = 64;

// A JSON text and the file it came from: what the parser reads, and what a
// diagnostic names.
class Text {
public:
    // Takes the text. When its capacity leaves `padding` bytes past its end
    // (zone::read_zone_file leaves them) the parser reads it where it is;
    // otherwise it is moved once to a buffer with that room.
    Text(std::string text, std::string file);
    Text(const Text&) = delete;
    Text& operator=(const Text&) = delete;

    std::string_view view() const { return text_; }
    // The bytes readable from view().data() on, padding included.
    size_t capacity() const { return text_.capacity(); }
    const std::string& file() const { return file_; }

    // The line and column of `offset`. The first call finds where the lines
    // start, so that a text without problems never counts them.
    Position position(Offset offset) const;
    core::Diagnostic diagnostic(Offset at, std::string message) const;

private:
    std::string text_;
    std::string file_;
    mutable std::vector<Offset> line_starts_;
};

enum class Kind : uint8_t { null, boolean, integer, real, string, array, object };

struct Member;

struct Value {
    Kind kind = Kind::null;
    bool boolean = false;
    Offset position = 0;  // of the value's first byte
    // Integers beyond int64_t are clamped to its maximum: every field that
    // takes an integer has a far smaller limit and reports it.
    int64_t integer = 0;
    double real = 0;  // also set for integers
    std::string string;
    std::vector<Value> items;     // array
    std::vector<Member> members;  // object, in file order, keys unique
    // An object whose members were left in the text (see parse's
    // `deferred_key`), for for_each_member to read them: how many there are,
    // duplicates included, and where they are. The members come in runs of
    // a few thousand, each parsed on its own, so that the parser's memory
    // is that of a run, not of the object; a run ends at the ',' before the
    // next run's first key, the last run at the object's '}'.
    struct Deferred {
        uint32_t members = 0;
        std::vector<Offset> runs;  // each run's first key; empty: not deferred
        Offset end = 0;            // the object's '}'
    } deferred;

    const Value* find(std::string_view key) const;
};

struct Member {
    std::string key;
    Offset key_position = 0;
    Value value;
};

// Parses `text`. Malformed JSON returns nullopt with one diagnostic, so does
// a document nested deeper than 64 lists and objects; a duplicate key is a
// diagnostic too, and the first one is kept.
//
// With a `deferred_key`, the members of the root object's first member of
// that name, when it is an object, are checked but left in the text
// (Value::deferred) rather than built into the tree, so that a zone of a
// million names is read one name at a time: for_each_member reads them
// (reporting their duplicate keys then).
std::optional<Value> parse(const Text& text, core::Diagnostics& diagnostics, std::string_view deferred_key = {});

// Calls `visit` with each member of the object `object` of `text` in file
// order, but for duplicate keys, which it reports as parse does; for a
// deferred object each member is built just for the call.
void for_each_member(const Value& object, const Text& text, core::Diagnostics& diagnostics,
                     const std::function<void(const Member&)>& visit);

// "an object", "a string", ... for messages.
std::string_view describe(Kind kind);

}  // namespace dnsd::json
