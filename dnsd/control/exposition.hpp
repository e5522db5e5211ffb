#pragma once
// The Prometheus text exposition format, version 0.0.4: a family's HELP and
// TYPE lines, then its samples, label values escaped. Counters are named
// `*_total`; a histogram's samples are `_bucket` (cumulative, ending with
// le="+Inf"), `_sum` and `_count`.
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dnsd::control {

inline constexpr std::string_view exposition_content_type = "text/plain; version=0.0.4; charset=utf-8";

using Label = std::pair<std::string_view, std::string_view>;
using Labels = std::initializer_list<Label>;

enum class MetricType { counter, gauge, histogram };

// A label value with `\`, `"` and newlines escaped.
std::string escape_label_value(std::string_view value);
// A sample value as Prometheus reads it: integers without a fraction, +Inf, -Inf, NaN.
std::string format_value(double value);

class Exposition {
public:
    // Starts a family: its HELP and TYPE lines. Every sample that follows, up
    // to the next family, belongs to it.
    void family(std::string_view name, MetricType type, std::string_view help);

    // One sample of the current family; `name` is the family's own name, or
    // for a histogram the family name and a suffix.
    void sample(std::string_view name, std::span<const Label> labels, double value) {
        write_sample(name, labels, format_value(value));
    }
    void sample(std::string_view name, Labels labels, double value) {
        sample(name, std::span<const Label>(labels.begin(), labels.size()), value);
    }
    // A count, exact beyond 2^53.
    void sample_integer(std::string_view name, std::span<const Label> labels, uint64_t value) {
        write_sample(name, labels, std::to_string(value));
    }
    void sample_integer(std::string_view name, Labels labels, uint64_t value) {
        sample_integer(name, std::span<const Label>(labels.begin(), labels.size()), value);
    }

    // A histogram's samples: `cumulative[i]` observations at or below
    // `upper_bounds[i]`, `count` in all (the +Inf bucket), summing to `sum`.
    void histogram(std::string_view name, std::span<const Label> labels, std::span<const double> upper_bounds,
                   std::span<const uint64_t> cumulative, uint64_t count, double sum);

    const std::string& text() const { return text_; }
    std::string take() { return std::move(text_); }

private:
    void write_sample(std::string_view name, std::span<const Label> labels, std::string_view value);

    std::string text_;
};

}  // namespace dnsd::control
