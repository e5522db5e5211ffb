#pragma once
// A checker for the Prometheus text exposition format 0.0.4, strict where dnsd
// promises more than the format demands: every sample's family has a TYPE
// line, counters are named *_total. Shared by the unit tests of the renderer
// and the end-to-end tests that scrape the real server.
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace dnsd::test {

using LabelSet = std::map<std::string, std::string>;

struct Sample {
    std::string name;
    LabelSet labels;
    double value = 0;
};

struct CheckedExposition {
    std::vector<std::string> errors;  // empty: the text is well formed
    std::map<std::string, std::string> types;  // family name → type
    std::vector<Sample> samples;

    // The value of the sample `name` with exactly `labels`; nullopt if none.
    std::optional<double> value(std::string_view name, const LabelSet& labels = {}) const {
        for (const auto& s : samples)
            if (s.name == name && s.labels == labels) return s.value;
        return std::nullopt;
    }
    // The sum over the samples `name` whose labels include `subset`; 0 if none.
    double sum(std::string_view name, const LabelSet& subset = {}) const {
        double total = 0;
        for (const auto& s : samples) {
            if (s.name != name) continue;
            bool match = true;
            for (const auto& [key, value] : subset) {
                auto it = s.labels.find(key);
                match = match && it != s.labels.end() && it->second == value;
            }
            if (match) total += s.value;
        }
        return total;
    }
    std::string error_text() const {
        std::string out;
        for (const auto& e : errors) out += e + "\n";
        return out;
    }
};

namespace exposition_detail {

inline bool is_metric_name(std::string_view name) {
    if (name.empty()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                        (i > 0 && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

inline bool is_label_name(std::string_view name) {
    if (name.empty() || name.starts_with("__")) return false;
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (i > 0 && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

inline std::optional<double> parse_value(std::string_view text) {
    if (text == "+Inf" || text == "Inf") return HUGE_VAL;
    if (text == "-Inf") return -HUGE_VAL;
    if (text == "NaN") return NAN;
    if (text.empty()) return std::nullopt;
    const std::string copy(text);
    char* end = nullptr;
    const double value = std::strtod(copy.c_str(), &end);
    if (end != copy.c_str() + copy.size()) return std::nullopt;
    return value;
}

// The family a sample belongs to, given the declared types.
inline std::string family_of(const std::string& name, const std::map<std::string, std::string>& types) {
    for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
        if (!name.ends_with(suffix)) continue;
        const std::string base = name.substr(0, name.size() - suffix.size());
        auto it = types.find(base);
        if (it != types.end() && (it->second == "histogram" || it->second == "summary")) return base;
    }
    return name;
}

// Parses `name{a="b",...} value [timestamp]`; false with `error` set when malformed.
inline bool parse_sample(std::string_view line, Sample& sample, std::string& error) {
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    sample.name = std::string(line.substr(0, i));
    if (!is_metric_name(sample.name)) return error = "bad metric name \"" + sample.name + "\"", false;
    if (i < line.size() && line[i] == '{') {
        ++i;
        for (;;) {
            if (i < line.size() && line[i] == '}') {
                ++i;
                break;
            }
            size_t start = i;
            while (i < line.size() && line[i] != '=') ++i;
            const std::string label(line.substr(start, i - start));
            if (!is_label_name(label)) return error = "bad label name \"" + label + "\"", false;
            if (i + 1 >= line.size() || line[i + 1] != '"') return error = "label value not quoted", false;
            i += 2;
            std::string value;
            for (;; ++i) {
                if (i >= line.size()) return error = "unterminated label value", false;
                if (line[i] == '"') break;
                if (line[i] == '\\') {
                    if (++i >= line.size()) return error = "unterminated escape", false;
                    if (line[i] == 'n') value += '\n';
                    else if (line[i] == '\\' || line[i] == '"') value += line[i];
                    else return error = "bad escape \\" + std::string(1, line[i]), false;
                } else {
                    value += line[i];
                }
            }
            ++i;  // the closing quote
            if (!sample.labels.emplace(label, value).second) return error = "label \"" + label + "\" twice", false;
            if (i < line.size() && line[i] == ',') ++i;
            else if (i >= line.size() || line[i] != '}') return error = "expected ',' or '}' after a label", false;
        }
    }
    if (i >= line.size() || line[i] != ' ') return error = "expected a space before the value", false;
    std::string_view rest = line.substr(i + 1);
    const size_t space = rest.find(' ');
    const auto value = parse_value(rest.substr(0, space));
    if (!value) return error = "bad value \"" + std::string(rest.substr(0, space)) + "\"", false;
    if (space != std::string_view::npos) {
        const std::string_view timestamp = rest.substr(space + 1);
        if (timestamp.empty() || timestamp.find_first_not_of("-0123456789") != std::string_view::npos)
            return error = "bad timestamp", false;
    }
    sample.value = *value;
    return true;
}

inline void check_histograms(CheckedExposition& out) {
    for (const auto& [family, type] : out.types) {
        if (type != "histogram") continue;
        // By the label set without le: the buckets in order, the sum and the count.
        std::map<LabelSet, std::vector<std::pair<double, double>>> buckets;
        std::map<LabelSet, double> counts, sums;
        for (const auto& s : out.samples) {
            if (s.name == family + "_bucket") {
                LabelSet rest = s.labels;
                auto le = rest.find("le");
                if (le == rest.end()) {
                    out.errors.push_back(family + "_bucket without le");
                    continue;
                }
                const auto bound = parse_value(le->second);
                if (!bound) out.errors.push_back(family + "_bucket with a bad le \"" + le->second + "\"");
                rest.erase(le);
                buckets[rest].emplace_back(bound.value_or(NAN), s.value);
            } else if (s.name == family + "_count") {
                counts[s.labels] = s.value;
            } else if (s.name == family + "_sum") {
                sums[s.labels] = s.value;
            }
        }
        for (const auto& [labels, list] : buckets) {
            for (size_t i = 1; i < list.size(); ++i) {
                if (!(list[i].first > list[i - 1].first)) out.errors.push_back(family + ": le not increasing");
                if (list[i].second < list[i - 1].second) out.errors.push_back(family + ": buckets not cumulative");
            }
            if (list.empty() || !std::isinf(list.back().first))
                out.errors.push_back(family + ": no le=\"+Inf\" bucket last");
            else if (!counts.count(labels) || counts[labels] != list.back().second)
                out.errors.push_back(family + ": _count missing or not equal to the +Inf bucket");
            if (!sums.count(labels)) out.errors.push_back(family + ": _sum missing");
        }
        for (const auto& [labels, count] : counts)
            if (!buckets.count(labels)) out.errors.push_back(family + ": _count without buckets");
    }
}

}  // namespace exposition_detail

inline CheckedExposition check_exposition(std::string_view text) {
    using namespace exposition_detail;
    CheckedExposition out;
    if (!text.empty() && !text.ends_with('\n')) out.errors.push_back("the last line has no newline");
    std::set<std::string> helped, finished_families;
    std::set<std::pair<std::string, LabelSet>> series;
    std::string current;  // the family whose lines are being read
    size_t line_number = 0;
    while (!text.empty()) {
        const size_t newline = text.find('\n');
        const std::string_view line = text.substr(0, newline);
        text = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
        ++line_number;
        const std::string where = "line " + std::to_string(line_number) + ": ";
        if (line.empty()) continue;

        // Moving to another family: the one before is done and may not come back.
        auto enter = [&](const std::string& family) {
            if (family == current) return;
            if (!current.empty()) finished_families.insert(current);
            if (finished_families.count(family)) out.errors.push_back(where + family + " is not in one group");
            current = family;
        };

        if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
            std::string_view rest = line.substr(7);
            const size_t space = rest.find(' ');
            const std::string name(rest.substr(0, space));
            const std::string_view argument = space == std::string_view::npos ? "" : rest.substr(space + 1);
            if (!is_metric_name(name)) out.errors.push_back(where + "bad metric name \"" + name + "\"");
            enter(name);
            if (line.starts_with("# HELP ")) {
                if (!helped.insert(name).second) out.errors.push_back(where + "second HELP for " + name);
                continue;
            }
            const std::string type(argument);
            if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" && type != "untyped")
                out.errors.push_back(where + "bad type \"" + type + "\"");
            if (out.types.count(name)) out.errors.push_back(where + "second TYPE for " + name);
            for (const auto& s : out.samples)
                if (family_of(s.name, {{name, type}}) == name)
                    out.errors.push_back(where + "TYPE for " + name + " after its samples");
            out.types[name] = type;
            if (type == "counter" && !name.ends_with("_total"))
                out.errors.push_back(where + "counter " + name + " does not end in _total");
            continue;
        }
        if (line.starts_with('#')) continue;  // a comment

        Sample sample;
        std::string error;
        if (!parse_sample(line, sample, error)) {
            out.errors.push_back(where + error + ": " + std::string(line));
            continue;
        }
        const std::string family = family_of(sample.name, out.types);
        enter(family);
        auto type = out.types.find(family);
        if (type == out.types.end()) {
            out.errors.push_back(where + sample.name + " has no TYPE");
        } else {
            if (type->second == "counter" && !(sample.value >= 0))
                out.errors.push_back(where + "counter " + sample.name + " is negative or NaN");
            if (type->second == "histogram" && sample.name == family)
                out.errors.push_back(where + "histogram sample without _bucket, _sum or _count: " + sample.name);
        }
        if (!series.emplace(sample.name, sample.labels).second)
            out.errors.push_back(where + "the same series twice: " + std::string(line));
        out.samples.push_back(std::move(sample));
    }
    check_histograms(out);
    return out;
}

}  // namespace dnsd::test
