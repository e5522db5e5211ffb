#include "dnsd/json/fields.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <vector>

namespace dnsd::json {

namespace {

char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }

size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t above = row[j];
            size_t substitute = diagonal + (lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1);
            row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
            diagonal = above;
        }
    }
    return row[b.size()];
}

}  // namespace

std::span<const Value> entries(const Value& value) {
    if (value.kind == Kind::array) return value.items;
    return {&value, 1};
}

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::optional<size_t> index_of(Words words, std::string_view word) {
    auto it = std::find(words.begin(), words.end(), word);
    if (it == words.end()) return std::nullopt;
    return static_cast<size_t>(it - words.begin());
}

std::string_view nearest(std::string_view word, Words candidates) {
    std::string_view best;
    size_t best_distance = SIZE_MAX;
    for (auto candidate : candidates) {
        size_t d = edit_distance(word, candidate);
        if (d < best_distance) {
            best = candidate;
            best_distance = d;
        }
    }
    return best;
}

std::string suggest(std::string_view word, Words candidates) {
    std::string_view best = nearest(word, candidates);
    // Close enough to be a typo: one edit per three letters, at least one.
    size_t limit = std::max<size_t>(1, std::max(word.size(), best.size()) / 3);
    if (!best.empty() && edit_distance(word, best) <= limit)
        return "; did you mean " + quote(best) + "?";
    std::string list;
    for (auto candidate : candidates) list += (list.empty() ? "" : ", ") + quote(candidate);
    return "; use one of: " + list;
}

void Fields::error(Offset at, std::string message) {
    diagnostics_.push_back(text_.diagnostic(at, std::move(message)));
}

void Fields::known_keys(const Value& object, Words known, std::string_view where) {
    for (const auto& member : object.members)
        if (std::find(known.begin(), known.end(), member.key) == known.end())
            error(member.key_position,
                  "unknown key " + quote(member.key) + " " + std::string(where) + suggest(member.key, known));
}

const Value* Fields::required(const Value& object, std::string_view key, std::string_view what,
                              std::string_view example) {
    if (const Value* v = object.find(key)) return v;
    error(object.position,
          std::string(what) + " needs " + quote(key) + "; add " + quote(key) + ": " + std::string(example));
    return nullptr;
}

bool Fields::expect(const Value& value, Kind kind, std::string_view name, std::string_view expected) {
    if (value.kind == kind) return true;
    error(value.position,
          std::string(name) + " must be " + std::string(expected) + ", not " + std::string(describe(value.kind)));
    return false;
}

bool Fields::object_of(const Value& value, Words known, std::string_view name, std::string_view example,
                       std::string_view where) {
    if (!expect(value, Kind::object, name, example)) return false;
    known_keys(value, known, where);
    return true;
}

bool Fields::is_object(const Value& value, std::string_view name) {
    return expect(value, Kind::object, name, "an object { ... }");
}

const std::string* Fields::string(const Value& value, std::string_view name) {
    return expect(value, Kind::string, name, "a string in double quotes") ? &value.string : nullptr;
}

std::optional<bool> Fields::boolean(const Value& value, std::string_view name) {
    if (!expect(value, Kind::boolean, name, "true or false")) return std::nullopt;
    return value.boolean;
}

std::optional<int64_t> Fields::integer(const Value& value, std::string_view name, int64_t min, int64_t max) {
    if (value.kind == Kind::integer && value.integer >= min && value.integer <= max)
        return value.integer;
    std::string range = std::to_string(min) + " to " + std::to_string(max);
    if (value.kind == Kind::integer || value.kind == Kind::real) {
        std::string problem = value.kind == Kind::real ? "is not a whole number"
                              : value.integer < min    ? "is too small"
                                                       : "is too large";
        error(value.position, std::string(name) + " " + problem + "; use a whole number from " + range);
    } else {
        error(value.position, std::string(name) + " must be a whole number from " + range + ", not " +
                                  std::string(describe(value.kind)));
    }
    return std::nullopt;
}

std::optional<double> Fields::number(const Value& value, std::string_view name, double min, double max) {
    auto format = [](double d) {
        std::string s = std::to_string(d);
        s.erase(s.find_last_not_of('0') + 1);
        if (s.back() == '.') s.pop_back();
        return s;
    };
    std::string range = format(min) + " to " + format(max);
    if (value.kind != Kind::integer && value.kind != Kind::real) {
        error(value.position, std::string(name) + " must be a number from " + range + ", not " +
                                  std::string(describe(value.kind)));
        return std::nullopt;
    }
    if (value.real < min || value.real > max) {
        error(value.position, std::string(name) + " is out of range; use a number from " + range);
        return std::nullopt;
    }
    return value.real;
}

std::optional<uint32_t> Fields::positive_seconds(const Value& value, std::string_view name, uint32_t max_s) {
    std::string range = "above 0 and at most " + std::to_string(max_s);
    if (value.kind != Kind::integer && value.kind != Kind::real) {
        error(value.position, std::string(name) + " must be a number of seconds " + range + ", not " +
                                  std::string(describe(value.kind)));
        return std::nullopt;
    }
    double ms = std::round(value.real * 1000);
    if (!(ms >= 1 && value.real <= max_s)) {
        error(value.position, std::string(name) + " must be a number of seconds " + range);
        return std::nullopt;
    }
    return static_cast<uint32_t>(ms);
}

}  // namespace dnsd::json
