#include "dnsd/control/exposition.hpp"

#include <cmath>
#include <fmt/format.h>

namespace dnsd::control {

namespace {

std::string_view type_name(MetricType type) {
    switch (type) {
    case MetricType::counter: return "counter";
    case MetricType::gauge: return "gauge";
    case MetricType::histogram: return "histogram";
    }
    return "untyped";
}

// HELP text escapes only `\` and newlines.
std::string escape_help(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

}  // namespace

std::string escape_label_value(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

std::string format_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    // Counts up to 2^53 are exact in a double: print them as integers.
    if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) return fmt::format("{:.0f}", value);
    return fmt::format("{}", value);
}

void Exposition::family(std::string_view name, MetricType type, std::string_view help) {
    text_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help), name, type_name(type));
}

void Exposition::write_sample(std::string_view name, std::span<const Label> labels, std::string_view value) {
    text_ += name;
    if (!labels.empty()) {
        text_ += '{';
        for (size_t i = 0; i < labels.size(); ++i) {
            if (i > 0) text_ += ',';
            text_ += fmt::format("{}=\"{}\"", labels[i].first, escape_label_value(labels[i].second));
        }
        text_ += '}';
    }
    text_ += ' ';
    text_ += value;
    text_ += '\n';
}

void Exposition::histogram(std::string_view name, std::span<const Label> labels,
                           std::span<const double> upper_bounds, std::span<const uint64_t> cumulative,
                           uint64_t count, double sum) {
    std::vector<Label> with_le(labels.begin(), labels.end());
    with_le.emplace_back("le", "");
    const std::string bucket = std::string(name) + "_bucket";
    for (size_t i = 0; i < upper_bounds.size() && i < cumulative.size(); ++i) {
        const std::string le = format_value(upper_bounds[i]);
        with_le.back().second = le;
        sample_integer(bucket, with_le, cumulative[i]);
    }
    with_le.back().second = "+Inf";
    sample_integer(bucket, with_le, count);
    sample(std::string(name) + "_sum", labels, sum);
    sample_integer(std::string(name) + "_count", labels, count);
}

}  // namespace dnsd::control
