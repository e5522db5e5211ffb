#include "dnsd/json/json.hpp"

#include <simdjson.h>

#include <algorithm>
#include <deque>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <utility>

#include "dnsd/core/key_index.hpp"

namespace dnsd::json {

namespace ondemand = simdjson::ondemand;

static_assert(padding >= simdjson::SIMDJSON_PADDING);

Text::Text(std::string text, std::string file) : text_(std::move(text)), file_(std::move(file)) {
    text_.reserve(text_.size() + padding);
}

Position Text::position(Offset offset) const {
    if (line_starts_.empty()) {
        line_starts_.push_back(0);
        for (size_t at = text_.find('\n'); at != std::string_view::npos; at = text_.find('\n', at + 1))
            line_starts_.push_back(static_cast<Offset>(at + 1));
    }
    const auto next = std::upper_bound(line_starts_.begin(), line_starts_.end(), offset);
    return {static_cast<uint32_t>(next - line_starts_.begin()), offset - next[-1] + 1};
}

core::Diagnostic Text::diagnostic(Offset at, std::string message) const {
    const Position position = this->position(at);
    return {file_, position.line, position.column, std::move(message)};
}

const Value* Value::find(std::string_view key) const {
    for (const auto& member : members)
        if (member.key == key) return &member.value;
    return nullptr;
}

std::string_view describe(Kind kind) {
    switch (kind) {
        case Kind::null: return "null";
        case Kind::boolean: return "a boolean";
        case Kind::integer: return "a whole number";
        case Kind::real: return "a number";
        case Kind::string: return "a string";
        case Kind::array: return "a list";
        case Kind::object: return "an object";
    }
    return "a value";
}

namespace {

// Deeper documents are refused. Zone and config files nest six levels at
// most, and the tree is built and destroyed recursively: the limit bounds
// the stack that takes, on any thread, whatever a file holds.
constexpr size_t max_depth = 64;

// Thrown at the list or object that would be nested one level too deep.
struct TooDeep {
    Offset at;
};

std::string duplicate_message(std::string_view key, Position first) {
    return "duplicate key \"" + std::string(key) + "\" (first at line " + std::to_string(first.line) + ", column " +
           std::to_string(first.column) + "); remove one of them";
}

// The keys of one object so far, to find duplicates. The caller keeps the
// keys' bytes for as long as this lives.
class Keys {
public:
    explicit Keys(size_t expected = 0) {
        seen_.reserve(expected);
        if (expected > scanned) index_.reserve(expected);
    }
    // See KeyIndex::prefetch.
    void prefetch(std::string_view key) const { index_.prefetch(key); }

    // Keeps the memory, for the next object.
    void clear() {
        seen_.clear();
        index_.clear();
    }

    // Where `key` first was, when it came before; else remembers it at `at`.
    std::optional<Offset> first(std::string_view key, Offset at) {
        const auto next = static_cast<uint32_t>(seen_.size());
        uint32_t found = core::KeyIndex::none;
        if (next < scanned) {
            for (uint32_t i = 0; i < next && found == core::KeyIndex::none; ++i)
                if (seen_[i].key() == key) found = i;
        } else {
            auto key_of = [this](uint32_t i) { return seen_[i].key(); };
            if (index_.size() == 0)
                for (uint32_t i = 0; i < next; ++i) index_.insert(seen_[i].key(), i, key_of);
            found = index_.insert(key, next, key_of);
        }
        if (found != core::KeyIndex::none) return seen_[found].at;
        seen_.push_back({key.data(), static_cast<uint32_t>(key.size()), at});
        return std::nullopt;
    }

private:
    // Objects with more keys than this find duplicates through the index.
    static constexpr size_t scanned = 16;

    struct Seen {  // 16 bytes: a zone's records have a million
        const char* data;
        uint32_t size;
        Offset at;
        std::string_view key() const { return {data, size}; }
    };
    std::vector<Seen> seen_;
    core::KeyIndex index_;
};

// Builds the tree from simdjson's tokens; simdjson checks them as they are
// read, and throws simdjson_error at the first that is malformed. Every value
// is read, so that nothing is left unchecked. A null `out` checks a value
// without building it: that is how a deferred object is checked in the first
// pass, so that for_each_member cannot fail.
class Builder {
public:
    explicit Builder(const Text& text) : text_(text) {}

    // The root value of the text, from byte `start` on; the members of the
    // root's first member named `deferred_key`, if it is an object, are left
    // in the text.
    Value document(size_t start, std::string_view deferred_key) {
        deferred_key_ = deferred_key;
        const std::string_view json = text_.view().substr(start);
        ondemand::parser parser;
        ondemand::document document = parser.iterate(json.data(), json.size(), text_.capacity() - start);
        document_ = &document;
        Value root;
        const ondemand::json_type type = document.type();
        if (type == ondemand::json_type::array || type == ondemand::json_type::object) {
            value(document.get_value(), &root, 0);
        } else {
            root.position = offset(document.raw_json_token().value().data());
            scalar(document, type, &root);
        }
        // Past the root's end, nothing but whitespace.
        if (document.current_location().error() != simdjson::OUT_OF_BOUNDS)
            throw simdjson::simdjson_error(simdjson::TRAILING_CONTENT);
        return root;
    }

    // Calls `visit` with each member of the deferred `object`, but for
    // duplicate keys. Each run of members is copied between braces, so that
    // it is an object of its own, and parsed as one.
    void each_member(const Value& object, const std::function<void(const Member&)>& visit) {
        const std::string_view text = text_.view();
        const std::vector<Offset>& runs = object.deferred.runs;
        Keys keys(object.deferred.members);
        std::deque<std::string> escaped;  // keys that are not as written in the text
        std::string run;
        ondemand::parser parser;
        Member member;
        for (size_t i = 0; i < runs.size(); ++i) {
            // Only blanks and the ',' lie between a member and the next.
            const Offset end = i + 1 < runs.size()
                                   ? static_cast<Offset>(text.find_last_not_of(" \t\n\r", runs[i + 1] - 1))
                                   : object.deferred.end;
            run.reserve(1 + (end - runs[i]) + 1 + padding);
            run.assign("{").append(text.substr(runs[i], end - runs[i])).append("}");
            base_ = run.data() + 1;
            shift_ = runs[i];
            ondemand::document document = parser.iterate(run.data(), run.size(), run.capacity());
            for (ondemand::field field : document.get_object()) {
                const Offset key_at = key_offset(field);
                std::string_view key = field.unescaped_key();
                // The key's bytes must outlive the run: those in the text
                // when it has no escapes, else a copy.
                const std::string_view written = text.substr(key_at + 1, key.size() + 1);
                const bool plain = key.find('\\') == std::string_view::npos && written.starts_with(key) &&
                                   written.back() == '"';
                key = plain ? written.substr(0, key.size()) : escaped.emplace_back(key);
                // The value is read first, while the key's slot is fetched.
                keys.prefetch(key);
                member.value = Value{};
                value(field.value(), &member.value, deferred_depth + 1);
                if (!is_new(keys, key, key_at)) continue;
                member.key = key;
                member.key_position = key_at;
                visit(member);
            }
        }
    }

    // Duplicate keys, to be reported once the document proves well-formed.
    core::Diagnostics duplicates;
    // The value or key being read, where a failure is reported when
    // nlohmann's parser does not find one.
    Offset reading = 0;

private:
    // Deferred objects are members of the root.
    static constexpr size_t deferred_depth = 1;
    // Members per run of a deferred object: a run of a zone's records is a
    // few hundred kilobytes.
    static constexpr uint32_t run_members = 4096;

    // Tokens point into the text, or into a copy of a run that starts at
    // shift_ in the text.
    Offset offset(const char* at) const { return static_cast<Offset>(at - base_) + shift_; }
    Offset key_offset(ondemand::field& field) const {
        return offset(reinterpret_cast<const char*>(field.key().raw())) - 1;  // raw() is past the quote
    }

    // `v` is `depth` lists and objects deep.
    void value(ondemand::value v, Value* out, size_t depth) {
        const Offset at = offset(v.raw_json_token().data());
        reading = at;
        if (out) out->position = at;
        const ondemand::json_type type = v.type();
        if (type == ondemand::json_type::object) {
            if (depth >= max_depth) throw TooDeep{at};
            if (out) out->kind = Kind::object;
            object(v.get_object(), out, depth + 1);
        } else if (type == ondemand::json_type::array) {
            if (depth >= max_depth) throw TooDeep{at};
            if (out) out->kind = Kind::array;
            for (ondemand::value item : v.get_array())
                value(item, out ? &out->items.emplace_back() : nullptr, depth + 1);
        } else {
            scalar(v, type, out);
        }
    }

    // The members of `object`, whose values are `depth` deep. The keys are
    // views of simdjson's string buffer, which keeps them to the end of the
    // document.
    void object(ondemand::object object, Value* out, size_t depth) {
        Keys& keys = keys_by_depth_[depth];
        keys.clear();
        for (ondemand::field field : object) {
            const Offset key_at = key_offset(field);
            reading = key_at;
            const std::string_view key = field.unescaped_key();
            if (!out) {
                value(field.value(), nullptr, depth);
                continue;
            }
            if (!is_new(keys, key, key_at)) {
                Value ignored;  // the first one is kept; this one is read for what it holds
                value(field.value(), &ignored, depth);
                continue;
            }
            Member& member = out->members.emplace_back(Member{std::string(key), key_at, {}});
            if (depth == deferred_depth && !deferred_key_.empty() && key == deferred_key_ &&
                field.value().type() == ondemand::json_type::object) {
                deferred_key_ = {};  // the first such member only
                defer(field.value(), member.value, depth);
            } else {
                value(field.value(), &member.value, depth);
            }
        }
    }

    // True when `key` is new to the object; else false, with a diagnostic.
    bool is_new(Keys& keys, std::string_view key, Offset key_at) {
        const std::optional<Offset> first = keys.first(key, key_at);
        if (first) duplicates.push_back(text_.diagnostic(key_at, duplicate_message(key, text_.position(*first))));
        return !first;
    }

    // Checks the object `v` and leaves its members in the text, noting where
    // each run of members starts.
    void defer(ondemand::value v, Value& out, size_t depth) {
        out.kind = Kind::object;
        out.position = offset(v.raw_json_token().data());
        Value::Deferred& deferred = out.deferred;
        for (ondemand::field field : v.get_object()) {
            const Offset key_at = key_offset(field);
            reading = key_at;
            field.unescaped_key().value();  // unescaped, so checked
            if (deferred.members % run_members == 0) deferred.runs.push_back(key_at);
            ++deferred.members;
            value(field.value(), nullptr, depth + 1);
        }
        // simdjson is at the token after the object; only blanks lie between.
        const Offset after = offset(document_->current_location().value());
        deferred.end = static_cast<Offset>(text_.view().find_last_not_of(" \t\n\r", after - 1));
    }

    // A string, number, boolean or null; `Source` is a value, or the
    // document when that is all it holds.
    template <typename Source>
    void scalar(Source& v, ondemand::json_type type, Value* out) {
        Value ignored;
        Value& to = out ? *out : ignored;
        switch (type) {
            case ondemand::json_type::string:
                if (out) {
                    to.kind = Kind::string;
                    to.string = std::string_view(v.get_string());
                } else {
                    v.get_string().value();  // unescaped, so checked
                }
                return;
            case ondemand::json_type::number: return number(v, to);
            case ondemand::json_type::boolean:
                to.kind = Kind::boolean;
                to.boolean = v.get_bool();
                return;
            case ondemand::json_type::null:
                if (!v.is_null()) break;  // "nul", "nulls"
                to.kind = Kind::null;
                return;
            default: break;
        }
        throw simdjson::simdjson_error(simdjson::INCORRECT_TYPE);
    }

    template <typename Source>
    void number(Source& v, Value& to) {
        ondemand::number number;
        if (v.get_number().get(number) != simdjson::SUCCESS) {
            // simdjson takes integers of at most 64 bits; nlohmann reads
            // longer ones as reals, and so does this. Anything else that
            // fails is no number at all, and throws.
            to.kind = Kind::real;
            to.real = v.get_double();
            return;
        }
        switch (number.get_number_type()) {
            case ondemand::number_type::signed_integer:
                to.kind = Kind::integer;
                to.integer = number.get_int64();
                to.real = static_cast<double>(to.integer);
                return;
            case ondemand::number_type::unsigned_integer: {
                constexpr auto most = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
                to.kind = Kind::integer;
                to.integer = static_cast<int64_t>(std::min(number.get_uint64(), most));
                to.real = static_cast<double>(number.get_uint64());
                return;
            }
            case ondemand::number_type::floating_point_number:
                to.kind = Kind::real;
                to.real = number.get_double();
                return;
        }
    }

    const Text& text_;
    const char* base_ = text_.view().data();
    Offset shift_ = 0;
    ondemand::document* document_ = nullptr;
    std::string_view deferred_key_;
    // Each object's keys, in scratch space for its depth: most objects are
    // small, and a million names would otherwise cost a million allocations.
    std::vector<Keys> keys_by_depth_ = std::vector<Keys>(max_depth + 1);
};

// nlohmann's messages start "[json.exception.parse_error.101] parse error at
// line 1, column 2: "; the position is reported our way, so keep the rest.
std::string plain_message(const std::string& what) {
    auto column = what.find("column ");
    auto colon = what.find(": ", column == std::string::npos ? 0 : column);
    std::string rest = colon == std::string::npos ? what : what.substr(colon + 2);
    return "malformed JSON: " + rest;
}

// nlohmann's SAX parser, only for its first error: its words are the ones
// users know from most JSON tools.
class FirstError : public nlohmann::json_sax<nlohmann::json> {
public:
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t&) override { return true; }
    bool string(string_t&) override { return true; }
    bool binary(binary_t&) override { return true; }
    bool start_object(std::size_t) override { return true; }
    bool key(string_t&) override { return true; }
    bool end_object() override { return true; }
    bool start_array(std::size_t) override { return true; }
    bool end_array() override { return true; }

    bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& error) override {
        // `position` counts the bytes read, including the one that failed.
        offset = position == 0 ? 0 : position - 1;
        message = plain_message(error.what());
        return false;
    }

    size_t offset = 0;
    std::string message;  // empty: no error
};

// The diagnostic for text that simdjson refused with `error` while reading
// at `reading`: nlohmann's, as it words it.
core::Diagnostic syntax_error(const Text& text, simdjson::error_code error, Offset reading) {
    const std::string_view json = text.view();
    FirstError first;
    nlohmann::json::sax_parse(json.begin(), json.end(), &first);
    if (first.message.empty())  // the parsers disagree; simdjson's word then
        return text.diagnostic(reading, std::string("malformed JSON: ") + simdjson::error_message(error));
    return text.diagnostic(static_cast<Offset>(std::min(first.offset, json.size())), first.message);
}

}  // namespace

std::optional<Value> parse(const Text& text, core::Diagnostics& diagnostics, std::string_view deferred_key) {
    if (text.view().size() > simdjson::SIMDJSON_MAXSIZE_BYTES) {
        diagnostics.push_back({text.file(), 0, 0, "the file is larger than 4 GiB; split it into smaller ones"});
        return std::nullopt;
    }
    // nlohmann's parser skips a UTF-8 byte order mark, simdjson does not.
    constexpr std::string_view byte_order_mark = "\xef\xbb\xbf";
    const size_t start = text.view().starts_with(byte_order_mark) ? byte_order_mark.size() : 0;
    Builder builder(text);
    try {
        Value root = builder.document(start, deferred_key);
        diagnostics.insert(diagnostics.end(), std::make_move_iterator(builder.duplicates.begin()),
                           std::make_move_iterator(builder.duplicates.end()));
        return root;
    } catch (const TooDeep& deep) {
        diagnostics.push_back(text.diagnostic(
            deep.at, "nested too deep: more than " + std::to_string(max_depth) +
                         " levels of lists and objects; flatten the document"));
    } catch (const simdjson::simdjson_error& error) {
        diagnostics.push_back(syntax_error(text, error.error(), builder.reading));
    }
    return std::nullopt;
}

void for_each_member(const Value& object, const Text& text, core::Diagnostics& diagnostics,
                     const std::function<void(const Member&)>& visit) {
    if (object.deferred.runs.empty()) {
        for (const Member& member : object.members) visit(member);
        return;
    }
    Builder builder(text);
    try {
        builder.each_member(object, visit);
    } catch (const simdjson::simdjson_error&) {
        throw std::logic_error("a deferred JSON object no longer parses");  // parse() checked these bytes
    } catch (const TooDeep&) {
        throw std::logic_error("a deferred JSON object no longer parses");
    }
    diagnostics.insert(diagnostics.end(), std::make_move_iterator(builder.duplicates.begin()),
                       std::make_move_iterator(builder.duplicates.end()));
}

}  // namespace dnsd::json
