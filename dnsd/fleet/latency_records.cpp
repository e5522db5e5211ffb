#include "dnsd/fleet/latency_records.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "dnsd/fleet/records.hpp"

namespace dnsd::fleet {

namespace {

constexpr std::string_view version = "1";

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// escape_key_part() undone; nullopt for what it cannot have written.
std::optional<std::string> unescape_key_part(std::string_view part) {
    std::string out;
    for (size_t i = 0; i < part.size(); ++i) {
        const char c = part[i];
        if (c != '=') {
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
                return std::nullopt;
            out += c;
            continue;
        }
        if (i + 2 >= part.size()) return std::nullopt;
        const int high = hex_digit(part[i + 1]), low = hex_digit(part[i + 2]);
        if (high < 0 || low < 0) return std::nullopt;
        out += static_cast<char>(high * 16 + low);
        i += 2;
    }
    return out;
}

template <class Number>
std::optional<Number> number(std::string_view text) {
    Number value{};
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

}  // namespace

std::string latency_key(std::string_view node, latency::NetworkKey network) {
    return std::string(latency_prefix) + escape_key_part(node) + "." + escape_key_part(latency::to_string(network));
}

std::optional<LatencyKey> parse_latency_key(std::string_view key) {
    if (!key.starts_with(latency_prefix)) return std::nullopt;
    key.remove_prefix(latency_prefix.size());
    const size_t dot = key.find('.');
    if (dot == std::string_view::npos) return std::nullopt;
    const auto node = unescape_key_part(key.substr(0, dot));
    const auto network_text = unescape_key_part(key.substr(dot + 1));
    if (!node || node->empty() || !network_text) return std::nullopt;
    const auto address = core::Address::parse(network_text->substr(0, network_text->find('/')));
    if (!address) return std::nullopt;
    // Only the spelling latency_key() writes: the network's first address and its prefix.
    const latency::NetworkKey network = latency::network_of(*address);
    if (latency::to_string(network) != *network_text) return std::nullopt;
    return LatencyKey{*node, network};
}

std::string encode_latency(std::span<const latency::Cell> cells, std::span<const std::string_view> regions) {
    std::string out(version);
    char text[64];
    for (size_t r = 0; r < cells.size(); ++r) {
        const latency::Cell& c = cells[r];
        if (c.samples == 0) continue;
        out += ' ';
        out += escape_key_part(regions[r]);
        // The shortest text that reads back as the same float.
        for (float value : {c.mean_ms, c.weight}) {
            out += ',';
            out.append(text, std::to_chars(text, text + sizeof text, value).ptr);
        }
        out += ',' + std::to_string(c.samples) + ',' + std::to_string(c.updated_s);
    }
    return out;
}

std::optional<LatencyRecord> decode_latency(std::string_view key, std::string_view value,
                                            std::span<const std::string_view> regions, const std::string& where,
                                            core::Diagnostics& diagnostics) {
    auto problem = [&](size_t offset, std::string message) {
        diagnostics.push_back({where, 1, static_cast<uint32_t>(offset + 1), std::move(message)});
        return std::nullopt;
    };
    const auto parsed_key = parse_latency_key(key);
    if (!parsed_key) return problem(0, "\"" + std::string(key) + "\" is not a key latency.<node>.<network>");
    LatencyRecord record{parsed_key->node, parsed_key->network, std::vector<latency::Cell>(regions.size())};
    std::vector<bool> seen(regions.size());
    size_t start = 0;
    bool first = true;
    while (start <= value.size()) {
        const size_t end = std::min(value.find(' ', start), value.size());
        const std::string_view token = value.substr(start, end - start);
        if (std::exchange(first, false)) {
            if (token != version)
                return problem(start, "not a latency record of version " + std::string(version) + " (\"" +
                                          std::string(token.substr(0, 16)) + "\")");
            if (end == value.size()) return problem(end, "a latency record lists at least one region");
            start = end + 1;
            continue;
        }
        // region,mean_ms,weight,samples,updated_s
        if (std::count(token.begin(), token.end(), ',') != 4)
            return problem(start, "expected region,mean_ms,weight,samples,updated_s");
        std::string_view fields[5];
        size_t field_start[5] = {};
        for (size_t i = 0, at = 0; i < 5; ++i) {
            const size_t comma = std::min(token.find(',', at), token.size());
            field_start[i] = start + at;
            fields[i] = token.substr(at, comma - at);
            at = comma + 1;
        }
        const auto region_name = unescape_key_part(fields[0]);
        if (!region_name || region_name->empty()) return problem(field_start[0], "not a region name");
        const auto mean = number<float>(fields[1]);
        const auto weight = number<float>(fields[2]);
        const auto samples = number<uint32_t>(fields[3]);
        const auto updated = number<uint32_t>(fields[4]);
        if (!mean || !std::isfinite(*mean) || *mean <= 0 || *mean > latency::max_rtt_ms)
            return problem(field_start[1], "not an RTT");
        if (!weight || !std::isfinite(*weight) || *weight <= 0) return problem(field_start[2], "not a weight");
        if (!samples || *samples == 0) return problem(field_start[3], "not a sample count");
        if (!updated) return problem(field_start[4], "not a Unix time");
        const auto region = std::find(regions.begin(), regions.end(), *region_name);
        if (region != regions.end()) {
            const auto index = static_cast<size_t>(region - regions.begin());
            if (seen[index]) return problem(field_start[0], "region \"" + *region_name + "\" listed twice");
            seen[index] = true;
            latency::Cell& c = record.cells[index];
            c.mean_ms = *mean;
            c.weight = *weight;
            c.samples = *samples;
            c.updated_s = *updated;
        }
        start = end + 1;
    }
    return record;
}

}  // namespace dnsd::fleet
