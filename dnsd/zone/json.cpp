#include "dnsd/zone/json.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <deque>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_map>

#include "dnsd/zone/key_index.hpp"

namespace dnsd::zone::json {

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

// Deeper documents are refused so that destroying a Value never recurses far.
constexpr size_t max_depth = 64;

// A char iterator that tells how many bytes nlohmann's lexer has taken, so
// that each SAX event can be placed in the text.
class CountingIterator {
public:
    using iterator_category = std::input_iterator_tag;
    using value_type = char;
    using difference_type = std::ptrdiff_t;
    using pointer = const char*;
    using reference = const char&;

    CountingIterator(const char* at, size_t* consumed) : at_(at), consumed_(consumed) {}
    reference operator*() const { return *at_; }
    CountingIterator& operator++() {
        ++at_;
        ++*consumed_;
        return *this;
    }
    bool operator==(const CountingIterator& other) const { return at_ == other.at_; }
    bool operator!=(const CountingIterator& other) const { return at_ != other.at_; }

private:
    const char* at_;
    size_t* consumed_;
};

class Lines {
public:
    explicit Lines(std::string_view text) {
        starts_.push_back(0);
        for (size_t i = 0; i < text.size(); ++i)
            if (text[i] == '\n') starts_.push_back(i + 1);
    }
    Position at(size_t offset) const {
        auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
        size_t line = static_cast<size_t>(it - starts_.begin());
        return {static_cast<uint32_t>(line), static_cast<uint32_t>(offset - starts_[line - 1] + 1)};
    }

private:
    std::vector<size_t> starts_;
};

// nlohmann's messages start "[json.exception.parse_error.101] parse error at
// line 1, column 2: "; the position is reported our way, so keep the rest.
std::string plain_message(const std::string& what) {
    auto column = what.find("column ");
    auto colon = what.find(": ", column == std::string::npos ? 0 : column);
    std::string rest = colon == std::string::npos ? what : what.substr(colon + 2);
    return "malformed JSON: " + rest;
}

std::string duplicate_message(std::string_view key, Position first) {
    return "duplicate key \"" + std::string(key) + "\" (first at line " + std::to_string(first.line) + ", column " +
           std::to_string(first.column) + "); remove one of them";
}

class Builder : public nlohmann::json_sax<nlohmann::json> {
public:
    Builder(std::string_view text, const std::string& file, core::Diagnostics& diagnostics,
            const size_t& consumed)
        : text_(text), lines_(text), file_(file), diagnostics_(diagnostics), consumed_(consumed) {}

    bool null() override { return add(start_value(Kind::null)); }
    bool boolean(bool value) override {
        Value v = start_value(Kind::boolean);
        v.boolean = value;
        return add(std::move(v));
    }
    bool number_integer(number_integer_t value) override {
        Value v = start_value(Kind::integer);
        v.integer = value;
        v.real = static_cast<double>(value);
        return add(std::move(v));
    }
    bool number_unsigned(number_unsigned_t value) override {
        Value v = start_value(Kind::integer);
        constexpr auto most = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
        v.integer = static_cast<int64_t>(std::min<uint64_t>(value, most));
        v.real = static_cast<double>(value);
        return add(std::move(v));
    }
    bool number_float(number_float_t value, const string_t&) override {
        Value v = start_value(Kind::real);
        v.real = value;
        return add(std::move(v));
    }
    bool string(string_t& value) override {
        Value v = start_value(Kind::string);
        v.string = std::move(value);
        return add(std::move(v));
    }
    bool binary(binary_t&) override { return false; }  // not produced by the JSON parser
    bool start_object(std::size_t) override { return open(Kind::object); }
    bool start_array(std::size_t) override { return open(Kind::array); }
    bool end_object() override { return close(); }
    bool end_array() override { return close(); }

    bool key(string_t& key) override {
        Position position = lines_.at(token_start());
        mark_end();
        Frame& frame = stack_.back();
        auto [it, fresh] = frame.keys.try_emplace(key, position);
        if (!fresh) {
            report(position, duplicate_message(key, it->second));
            frame.duplicates.push_back(frame.value->members.size());
        }
        pending_key_ = std::move(key);
        pending_key_position_ = position;
        return true;
    }

    bool parse_error(std::size_t position, const std::string&,
                     const nlohmann::detail::exception& error) override {
        // `position` counts the bytes read, including the one that failed.
        size_t offset = std::min(position == 0 ? 0 : position - 1, text_.size());
        report(lines_.at(offset), plain_message(error.what()));
        malformed_ = true;
        return false;
    }

    std::optional<Value> result() {
        if (malformed_) return std::nullopt;
        return std::move(root_);
    }

private:
    struct Frame {
        Value* value;
        std::unordered_map<std::string, Position> keys;  // objects: first position of each key
        std::vector<size_t> duplicates;                  // member indices to drop
    };

    // Between two tokens only whitespace, ':' and ',' occur. The lexer may have
    // read one byte past a number, but such a byte is one of those or a
    // closing bracket, whose event needs no position.
    size_t token_start() const {
        size_t at = previous_end_;
        while (at < text_.size()) {
            char c = text_[at];
            if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != ':' && c != ',') break;
            ++at;
        }
        return at;
    }
    void mark_end() { previous_end_ = consumed_; }

    Value start_value(Kind kind) {
        Value v;
        v.kind = kind;
        v.position = lines_.at(token_start());
        mark_end();
        return v;
    }

    bool add(Value v) { return place(std::move(v)) != nullptr; }

    Value* place(Value v) {
        if (stack_.empty()) {
            root_ = std::move(v);
            return &root_;
        }
        Value& parent = *stack_.back().value;
        if (parent.kind == Kind::array) {
            parent.items.push_back(std::move(v));
            return &parent.items.back();
        }
        parent.members.push_back(Member{std::move(pending_key_), pending_key_position_, std::move(v)});
        return &parent.members.back().value;
    }

    bool open(Kind kind) {
        Value* value = place(start_value(kind));
        if (stack_.size() >= max_depth) {
            report(value->position, "JSON nested deeper than " + std::to_string(max_depth) +
                                        " levels; flatten the document");
            malformed_ = true;
            return false;
        }
        stack_.push_back(Frame{value, {}, {}});
        return true;
    }

    bool close() {
        mark_end();
        Frame& frame = stack_.back();
        auto& members = frame.value->members;
        for (auto it = frame.duplicates.rbegin(); it != frame.duplicates.rend(); ++it)
            members.erase(members.begin() + static_cast<std::ptrdiff_t>(*it));
        stack_.pop_back();
        return true;
    }

    void report(Position position, std::string message) {
        diagnostics_.push_back({file_, position.line, position.column, std::move(message)});
    }

    std::string_view text_;
    Lines lines_;
    const std::string& file_;
    core::Diagnostics& diagnostics_;
    const size_t& consumed_;
    size_t previous_end_ = 0;
    Value root_;
    std::vector<Frame> stack_;
    std::string pending_key_;
    Position pending_key_position_;
    bool malformed_ = false;
};


// The common case, fast: well-formed JSON parsed by hand into the same tree
// the Builder makes, positions counted while scanning, each container's
// children gathered in scratch space and then stored in one allocation.
// Anything it does not take (malformed JSON, a byte order mark, integers of
// more than 18 digits, numbers strtod and from_chars may disagree on, nesting
// past the limit) makes parse() fall back to the Builder, whose diagnostics
// word nlohmann's errors; so the two agree on every document that this one
// accepts, and the Builder decides the rest.
//
// A null `out` checks a value without building it: that is how a deferred
// object is checked in the first pass, so that for_each_member cannot fail.
class FastParser {
public:
    // Parses `text`, whose first byte is at `start` in the file.
    FastParser(std::string_view text, Position start, const std::string& file)
        : at_(text.data()), end_(text.data() + text.size()), line_start_(text.data() - (start.column - 1)),
          line_(start.line), file_(file), members_(max_depth), items_(max_depth), keys_(max_depth) {}

    // Nullopt when the text needs the Builder; else the tree, and any
    // duplicate keys added to `diagnostics`.
    std::optional<Value> parse(core::Diagnostics& diagnostics, std::string_view deferred_key) {
        deferred_key_ = deferred_key;
        Value root;
        skip_space();
        if (!value(&root, 0)) return std::nullopt;
        skip_space();
        if (at_ != end_) return std::nullopt;
        diagnostics.insert(diagnostics.end(), std::make_move_iterator(duplicates_.begin()),
                           std::make_move_iterator(duplicates_.end()));
        return root;
    }

    // The members of the deferred object that is the text, one at a time.
    // False only if the text is not the one the first pass checked.
    bool each_member(size_t count, core::Diagnostics& diagnostics, const std::function<void(const Member&)>& visit) {
        // Keys seen so far, for duplicates: views of the text when the key
        // has no escapes (its bytes are the key), else of a copy.
        struct Seen {
            std::string_view key;
            Position position;
        };
        std::vector<Seen> seen;
        seen.reserve(count);
        std::deque<std::string> unescaped;
        KeyIndex keys;
        keys.reserve(count);
        auto key_of = [&seen](uint32_t i) { return seen[i].key; };
        Member member;
        const bool ok = members(deferred_depth, [&](Position key_position, std::string_view raw_key, std::string&& key) {
            const std::string_view stored = raw_key.size() == key.size() ? raw_key : unescaped.emplace_back(key);
            const uint32_t first = keys.insert(stored, static_cast<uint32_t>(seen.size()), key_of);
            if (first != KeyIndex::none) {
                duplicates_.push_back({file_, key_position.line, key_position.column,
                                       duplicate_message(key, seen[first].position)});
                Value ignored;
                return value(&ignored, deferred_depth + 1);
            }
            seen.push_back({stored, key_position});
            member.key = std::move(key);
            member.key_position = key_position;
            member.value = Value{};
            if (!value(&member.value, deferred_depth + 1)) return false;
            visit(member);
            return true;
        });
        diagnostics.insert(diagnostics.end(), std::make_move_iterator(duplicates_.begin()),
                           std::make_move_iterator(duplicates_.end()));
        return ok;
    }

private:
    // Deferred objects are members of the root.
    static constexpr size_t deferred_depth = 1;
    // Containers at most this many children are stored exactly sized; larger
    // ones take the scratch vector itself, whose unused tail is never touched.
    static constexpr size_t copied_children = 64;
    // Objects with more members than this find duplicate keys through an index.
    static constexpr size_t scanned_keys = 16;

    Position here() const { return {line_, static_cast<uint32_t>(at_ - line_start_ + 1)}; }

    void skip_space() {
        for (; at_ != end_; ++at_) {
            const char c = *at_;
            if (c == '\n') {
                ++line_;
                line_start_ = at_ + 1;
            } else if (c != ' ' && c != '\t' && c != '\r') {
                return;
            }
        }
    }

    bool value(Value* out, size_t depth) {
        if (at_ == end_) return false;
        if (out) out->position = here();
        const char c = *at_;
        if (c == '{') return object(out, depth);
        if (c == '[') return array(out, depth);
        if (c == '"') {
            if (out) out->kind = Kind::string;
            return string(out ? &out->string : nullptr);
        }
        if (c == 't' || c == 'f' || c == 'n') {
            if (out) {
                out->kind = c == 'n' ? Kind::null : Kind::boolean;
                out->boolean = c == 't';
            }
            return literal(c == 't' ? "true" : c == 'f' ? "false" : "null");
        }
        return number(out);
    }

    bool literal(std::string_view word) {
        if (static_cast<size_t>(end_ - at_) < word.size() || std::string_view(at_, word.size()) != word) return false;
        at_ += word.size();
        return true;
    }

    template <typename T>
    static std::vector<T> take(std::vector<T>& scratch) {
        if (scratch.size() > copied_children) return std::exchange(scratch, {});
        std::vector<T> exact(std::make_move_iterator(scratch.begin()), std::make_move_iterator(scratch.end()));
        scratch.clear();
        return exact;
    }

    // The members of the object at `at_`, each handed to `member(key
    // position, key as written, key)` with `at_` on its value, which it must
    // read. Without `keep_key` the key is only checked, and passed empty.
    template <typename OnMember>
    bool members(size_t depth, OnMember member, bool keep_key = true) {
        if (depth >= max_depth) return false;
        ++at_;
        skip_space();
        if (at_ != end_ && *at_ == '}') {
            ++at_;
            return true;
        }
        for (;;) {
            if (at_ == end_ || *at_ != '"') return false;
            const Position key_position = here();
            const char* raw = at_ + 1;
            std::string key;
            if (!string(keep_key ? &key : nullptr)) return false;
            const std::string_view raw_key(raw, static_cast<size_t>(at_ - 1 - raw));
            skip_space();
            if (at_ == end_ || *at_ != ':') return false;
            ++at_;
            skip_space();
            if (!member(key_position, raw_key, std::move(key))) return false;
            skip_space();
            if (at_ == end_) return false;
            if (*at_ == '}') break;
            if (*at_ != ',') return false;
            ++at_;
            skip_space();
        }
        ++at_;
        return true;
    }

    bool object(Value* out, size_t depth) {
        if (!out) return members(depth, [&](Position, std::string_view, std::string&&) { return value(nullptr, depth + 1); }, false);
        out->kind = Kind::object;
        std::vector<Member>& scratch = members_[depth];
        KeyIndex& keys = keys_[depth];
        scratch.clear();
        keys.clear();
        auto key_of = [&scratch](uint32_t i) -> std::string_view { return scratch[i].key; };
        const bool ok = members(depth, [&](Position key_position, std::string_view, std::string&& key) {
            uint32_t first = KeyIndex::none;
            if (scratch.size() < scanned_keys) {
                for (uint32_t i = 0; i < scratch.size() && first == KeyIndex::none; ++i)
                    if (scratch[i].key == key) first = i;
            } else {
                if (keys.size() == 0)
                    for (uint32_t i = 0; i < scratch.size(); ++i) keys.insert(scratch[i].key, i, key_of);
                first = keys.insert(key, static_cast<uint32_t>(scratch.size()), key_of);
            }
            if (first != KeyIndex::none) {
                // The first one is kept, as the Builder does; the value must still be well-formed.
                duplicates_.push_back({file_, key_position.line, key_position.column,
                                       duplicate_message(key, scratch[first].key_position)});
                Value ignored;
                return value(&ignored, depth + 1);
            }
            const bool deferred = depth + 1 == deferred_depth && !deferred_key_.empty() && key == deferred_key_ &&
                                  at_ != end_ && *at_ == '{';
            scratch.push_back(Member{std::move(key), key_position, {}});
            if (deferred) {
                deferred_key_ = {};  // the first such member only
                return defer(scratch.back().value, depth + 1);
            }
            return value(&scratch.back().value, depth + 1);
        });
        if (!ok) return false;
        out->members = take(scratch);
        return true;
    }

    // Checks the object at `at_` and leaves its members in the text.
    bool defer(Value& out, size_t depth) {
        out.kind = Kind::object;
        out.position = here();
        const char* begin = at_;
        size_t count = 0;
        const bool ok = members(depth, [&](Position, std::string_view, std::string&&) {
            ++count;
            return value(nullptr, depth + 1);
        }, false);
        out.deferred = {std::string_view(begin, static_cast<size_t>(at_ - begin)), count};
        return ok;
    }

    bool array(Value* out, size_t depth) {
        if (depth >= max_depth) return false;
        ++at_;
        std::vector<Value>* scratch = out ? &items_[depth] : nullptr;
        if (out) {
            out->kind = Kind::array;
            scratch->clear();
        }
        skip_space();
        if (at_ != end_ && *at_ == ']') {
            ++at_;
            return true;
        }
        for (;;) {
            if (!value(out ? &scratch->emplace_back() : nullptr, depth + 1)) return false;
            skip_space();
            if (at_ == end_) return false;
            if (*at_ == ']') break;
            if (*at_ != ',') return false;
            ++at_;
            skip_space();
        }
        ++at_;
        if (out) out->items = take(*scratch);
        return true;
    }

    // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    bool number(Value* out) {
        const char* start = at_;
        auto digits = [this] {
            const char* first = at_;
            while (at_ != end_ && *at_ >= '0' && *at_ <= '9') ++at_;
            return static_cast<size_t>(at_ - first);
        };
        const bool negative = *at_ == '-';
        if (negative) ++at_;
        const char* integral = at_;
        const size_t integral_digits = digits();
        if (integral_digits == 0 || (integral_digits > 1 && *integral == '0')) return false;
        bool whole = true;
        if (at_ != end_ && *at_ == '.') {
            ++at_;
            if (digits() == 0) return false;
            whole = false;
        }
        if (at_ != end_ && (*at_ == 'e' || *at_ == 'E')) {
            ++at_;
            if (at_ != end_ && (*at_ == '+' || *at_ == '-')) ++at_;
            if (digits() == 0) return false;
            whole = false;
        }
        if (whole) {
            if (integral_digits > 18) return false;  // may not fit: the Builder decides
            if (!out) return true;
            int64_t n = 0;
            for (const char* d = integral; d != at_; ++d) n = n * 10 + (*d - '0');
            out->kind = Kind::integer;
            out->integer = negative ? -n : n;
            out->real = static_cast<double>(out->integer);
            return true;
        }
        double real = 0;
        const auto [end, error] = std::from_chars(start, at_, real);
        if (error != std::errc() || end != at_ || !std::isfinite(real)) return false;
        if (out) {
            out->kind = Kind::real;
            out->real = real;
        }
        return true;
    }

    static int hex_digit(char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }

    // "\\u" and four hex digits.
    bool code_unit(uint32_t& unit) {
        if (end_ - at_ < 6 || at_[0] != '\\' || at_[1] != 'u') return false;
        unit = 0;
        for (int i = 2; i < 6; ++i) {
            const int digit = hex_digit(at_[i]);
            if (digit < 0) return false;
            unit = unit << 4 | static_cast<uint32_t>(digit);
        }
        at_ += 6;
        return true;
    }

    static void append_utf8(std::string& out, uint32_t code) {
        if (code < 0x80) {
            out.push_back(static_cast<char>(code));
        } else if (code < 0x800) {
            out.push_back(static_cast<char>(0xC0 | code >> 6));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        } else if (code < 0x10000) {
            out.push_back(static_cast<char>(0xE0 | code >> 12));
            out.push_back(static_cast<char>(0x80 | (code >> 6 & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        } else {
            out.push_back(static_cast<char>(0xF0 | code >> 18));
            out.push_back(static_cast<char>(0x80 | (code >> 12 & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (code >> 6 & 0x3F)));
            out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
        }
    }

    bool escape(std::string* out) {
        if (end_ - at_ < 2) return false;
        char plain = 0;
        switch (at_[1]) {
            case '"': plain = '"'; break;
            case '\\': plain = '\\'; break;
            case '/': plain = '/'; break;
            case 'b': plain = '\b'; break;
            case 'f': plain = '\f'; break;
            case 'n': plain = '\n'; break;
            case 'r': plain = '\r'; break;
            case 't': plain = '\t'; break;
            case 'u': {
                uint32_t unit = 0;
                if (!code_unit(unit)) return false;
                if (unit >= 0xDC00 && unit <= 0xDFFF) return false;  // a low surrogate first
                if (unit >= 0xD800 && unit <= 0xDBFF) {
                    uint32_t low = 0;
                    if (!code_unit(low) || low < 0xDC00 || low > 0xDFFF) return false;
                    unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00);
                }
                if (out) append_utf8(*out, unit);
                return true;
            }
            default: return false;
        }
        if (out) out->push_back(plain);
        at_ += 2;
        return true;
    }

    // One UTF-8 sequence starting at a byte above 0x7F, as RFC 3629 allows it.
    bool utf8(std::string* out) {
        const auto byte = [this](ptrdiff_t i) { return static_cast<uint8_t>(at_[i]); };
        const uint8_t lead = byte(0);
        size_t length = 0;
        uint8_t low = 0x80, high = 0xBF;  // bounds of the second byte
        if (lead >= 0xC2 && lead <= 0xDF) length = 2;
        else if (lead == 0xE0) length = 3, low = 0xA0;
        else if ((lead >= 0xE1 && lead <= 0xEC) || lead == 0xEE || lead == 0xEF) length = 3;
        else if (lead == 0xED) length = 3, high = 0x9F;
        else if (lead == 0xF0) length = 4, low = 0x90;
        else if (lead >= 0xF1 && lead <= 0xF3) length = 4;
        else if (lead == 0xF4) length = 4, high = 0x8F;
        else return false;
        if (static_cast<size_t>(end_ - at_) < length) return false;
        if (byte(1) < low || byte(1) > high) return false;
        for (size_t i = 2; i < length; ++i)
            if (byte(static_cast<ptrdiff_t>(i)) < 0x80 || byte(static_cast<ptrdiff_t>(i)) > 0xBF) return false;
        if (out) out->append(at_, length);
        at_ += length;
        return true;
    }

    // The string at `at_` (its opening quote), decoded into `out` when there is one.
    bool string(std::string* out) {
        ++at_;
        for (;;) {
            const char* run = at_;
            while (at_ != end_) {
                const auto c = static_cast<uint8_t>(*at_);
                if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
                ++at_;
            }
            if (out) out->append(run, at_);
            if (at_ == end_) return false;
            const auto c = static_cast<uint8_t>(*at_);
            if (c == '"') {
                ++at_;
                return true;
            }
            if (c < 0x20) return false;
            if (!(c == '\\' ? escape(out) : utf8(out))) return false;
        }
    }

    const char* at_;
    const char* end_;
    const char* line_start_;
    uint32_t line_;
    const std::string& file_;
    std::string_view deferred_key_;
    // Scratch per depth, reused by every container at that depth.
    std::vector<std::vector<Member>> members_;
    std::vector<std::vector<Value>> items_;
    std::vector<KeyIndex> keys_;
    core::Diagnostics duplicates_;
};

}  // namespace

std::optional<Value> parse(std::string_view text, const std::string& file, core::Diagnostics& diagnostics,
                           std::string_view deferred_key) {
    if (auto root = FastParser(text, {1, 1}, file).parse(diagnostics, deferred_key)) return root;
    size_t consumed = 0;
    Builder builder(text, file, diagnostics, consumed);
    CountingIterator first(text.data(), &consumed);
    CountingIterator last(text.data() + text.size(), &consumed);
    nlohmann::json::sax_parse(first, last, &builder);
    return builder.result();
}

void for_each_member(const Value& object, const std::string& file, core::Diagnostics& diagnostics,
                     const std::function<void(const Member&)>& visit) {
    if (object.deferred.text.empty()) {
        for (const Member& member : object.members) visit(member);
        return;
    }
    // parse() checked these bytes already.
    if (!FastParser(object.deferred.text, object.position, file).each_member(object.deferred.members, diagnostics, visit))
        throw std::logic_error("a deferred JSON object no longer parses");
}

}  // namespace dnsd::zone::json
