#include "dnsd/zone/json.hpp"

#include <algorithm>
#include <cstddef>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <unordered_map>

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
            report(position, "duplicate key \"" + key + "\" (first at line " +
                                 std::to_string(it->second.line) + ", column " +
                                 std::to_string(it->second.column) +
                                 "); remove one of them");
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

}  // namespace

std::optional<Value> parse(std::string_view text, const std::string& file,
                           core::Diagnostics& diagnostics) {
    size_t consumed = 0;
    Builder builder(text, file, diagnostics, consumed);
    CountingIterator first(text.data(), &consumed);
    CountingIterator last(text.data() + text.size(), &consumed);
    nlohmann::json::sax_parse(first, last, &builder);
    return builder.result();
}

}  // namespace dnsd::zone::json
