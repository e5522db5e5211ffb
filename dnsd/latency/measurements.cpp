#include "dnsd/latency/measurements.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

namespace dnsd::latency {
namespace {

constexpr NetworkKey v6_bit = NetworkKey{1} << 63;
constexpr std::string_view state_header = "# dnsd latency measurements 1";

uint64_t leading_bits(const core::Address& address, unsigned bits) {
    uint64_t value = 0;
    for (unsigned i = 0; i < bits / 8; ++i) value = (value << 8) | address.bytes[i];
    return value;
}

int32_t region_index(std::span<const std::string_view> regions, std::string_view name) {
    auto it = std::find(regions.begin(), regions.end(), name);
    return it == regions.end() ? -1 : static_cast<int32_t>(it - regions.begin());
}

std::string region_list(std::span<const std::string_view> regions) {
    std::string out;
    for (auto name : regions) out += (out.empty() ? "" : ", ") + std::string(name);
    return out.empty() ? "(none configured)" : out;
}

std::optional<double> decimal(std::string_view text) {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) return std::nullopt;
    return value;
}

template <class Int>
std::optional<Int> integer(std::string_view text) {
    Int value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
}

bool valid_rtt(double rtt_ms) { return rtt_ms > 0 && rtt_ms <= max_rtt_ms; }

// A prefix of the table: "ADDR" or "ADDR/LEN", LEN at least the network's.
std::optional<NetworkKey> table_network(std::string_view text, std::string& why) {
    const size_t slash = text.find('/');
    const auto address = core::Address::parse(text.substr(0, slash));
    if (!address) {
        why = "\"" + std::string(text.substr(0, slash)) + "\" is not an IP address";
        return std::nullopt;
    }
    const unsigned least = address->family == core::Family::v4 ? network_prefix_v4 : network_prefix_v6;
    if (slash != std::string_view::npos) {
        const auto length = integer<unsigned>(text.substr(slash + 1));
        if (!length || *length > address->max_prefix()) {
            why = "\"" + std::string(text) + "\" has no valid prefix length";
            return std::nullopt;
        }
        if (*length < least) {
            why = "\"" + std::string(text) + "\" is wider than a /" + std::to_string(least) +
                  "; measurements are per /24 (IPv4) and /48 (IPv6): list each network";
            return std::nullopt;
        }
    }
    return network_of(*address);
}

// The fields of one comma-separated line, with the column each starts at (1-based).
std::vector<std::pair<std::string_view, uint32_t>> fields_of(std::string_view line) {
    std::vector<std::pair<std::string_view, uint32_t>> out;
    size_t start = 0;
    while (true) {
        const size_t comma = line.find(',', start);
        std::string_view field = line.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
        size_t lead = 0;
        while (lead < field.size() && (field[lead] == ' ' || field[lead] == '\t')) ++lead;
        field.remove_prefix(lead);
        while (!field.empty() && (field.back() == ' ' || field.back() == '\t' || field.back() == '\r'))
            field.remove_suffix(1);
        out.emplace_back(field, static_cast<uint32_t>(start + lead + 1));
        if (comma == std::string_view::npos) break;
        start = comma + 1;
    }
    return out;
}

// Calls `each(line_number, line)` for every line that is not blank or a comment.
template <class Each>
void for_each_line(std::string_view text, Each each) {
    uint32_t number = 0;
    while (!text.empty()) {
        const size_t end = text.find('\n');
        std::string_view line = text.substr(0, end);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
        ++number;
        const size_t first = line.find_first_not_of(" \t\r");
        if (first == std::string_view::npos || line[first] == '#') continue;
        if (!each(number, line)) return;
    }
}

}  // namespace

NetworkKey network_of(const core::Address& address) {
    if (address.family == core::Family::v4) return leading_bits(address, network_prefix_v4);
    return v6_bit | leading_bits(address, network_prefix_v6);
}

core::Family family_of(NetworkKey network) { return network & v6_bit ? core::Family::v6 : core::Family::v4; }

unsigned network_bits(NetworkKey network) {
    return family_of(network) == core::Family::v4 ? network_prefix_v4 : network_prefix_v6;
}

uint8_t prefix_of(NetworkKey network) { return static_cast<uint8_t>(network_bits(network)); }

core::Address first_address(NetworkKey network) {
    core::Address address;
    address.family = family_of(network);
    const unsigned bytes = network_bits(network) / 8;
    for (unsigned i = 0; i < bytes; ++i) address.bytes[i] = static_cast<uint8_t>(network >> (8 * (bytes - 1 - i)));
    return address;
}

std::string to_string(NetworkKey network) {
    return first_address(network).to_string() + "/" + std::to_string(prefix_of(network));
}

std::optional<std::vector<Beacon>> parse_beacons(std::string_view body, std::span<const std::string_view> regions,
                                                 std::string& error) {
    const auto json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_discarded()) {
        error = "the body is not JSON; send [{\"client\": \"81.2.69.17\", \"region\": \"eu\", \"rtt_ms\": 18.5}, ...]";
        return std::nullopt;
    }
    if (!json.is_array()) {
        error = "the body must be a JSON array of beacons: [{\"client\": \"81.2.69.17\", \"region\": \"eu\", "
                "\"rtt_ms\": 18.5}, ...]";
        return std::nullopt;
    }
    if (json.size() > max_beacons) {
        error = std::to_string(json.size()) + " beacons; send at most " + std::to_string(max_beacons) +
                " per request";
        return std::nullopt;
    }
    std::vector<Beacon> beacons;
    beacons.reserve(json.size());
    for (size_t i = 0; i < json.size(); ++i) {
        const auto& item = json[i];
        const std::string where = "beacon " + std::to_string(i) + ": ";
        if (!item.is_object()) {
            error = where + "not an object {\"client\", \"region\", \"rtt_ms\"}";
            return std::nullopt;
        }
        for (const auto& [key, value] : item.items())
            if (key != "client" && key != "region" && key != "rtt_ms") {
                error = where + "unknown key \"" + key + "\"; a beacon has \"client\", \"region\" and \"rtt_ms\"";
                return std::nullopt;
            }
        Beacon beacon;
        const auto client = item.find("client");
        const auto parsed = client != item.end() && client->is_string()
                                ? core::Address::parse(client->get<std::string>())
                                : std::nullopt;
        if (!parsed) {
            error = where + "\"client\" must be an IP address, such as \"81.2.69.17\"";
            return std::nullopt;
        }
        beacon.client = *parsed;
        const auto region = item.find("region");
        if (region == item.end() || !region->is_string()) {
            error = where + "\"region\" must be a region's name: " + region_list(regions);
            return std::nullopt;
        }
        beacon.region = region_index(regions, region->get<std::string>());
        if (beacon.region < 0) {
            error = where + "no region \"" + region->get<std::string>() + "\"; the regions are " + region_list(regions);
            return std::nullopt;
        }
        const auto rtt = item.find("rtt_ms");
        if (rtt == item.end() || !rtt->is_number() || !valid_rtt(rtt->get<double>())) {
            error = where + "\"rtt_ms\" must be a number of milliseconds above 0 and at most " +
                    std::to_string(static_cast<int>(max_rtt_ms));
            return std::nullopt;
        }
        beacon.rtt_ms = rtt->get<double>();
        beacons.push_back(beacon);
    }
    return beacons;
}

std::vector<TableRow> parse_table(std::string_view text, const std::string& file,
                                  std::span<const std::string_view> regions, core::Diagnostics& diagnostics) {
    std::vector<TableRow> rows;
    std::set<std::pair<NetworkKey, int32_t>> seen;
    bool first = true;
    for_each_line(text, [&](uint32_t number, std::string_view line) {
        const auto fields = fields_of(line);
        auto problem = [&](uint32_t column, std::string message) {
            diagnostics.push_back({file, number, column, std::move(message)});
        };
        if (std::exchange(first, false) && fields.size() == 3 && fields[0].first == "prefix") return true;
        if (fields.size() != 3) {
            problem(1, "expected prefix,region,rtt_ms (such as 81.2.69.0/24,eu,18.5), found " +
                           std::to_string(fields.size()) + " field" + (fields.size() == 1 ? "" : "s"));
            return true;
        }
        TableRow row;
        std::string why;
        const auto network = table_network(fields[0].first, why);
        if (!network) {
            problem(fields[0].second, why);
            return true;
        }
        row.network = *network;
        row.region = region_index(regions, fields[1].first);
        if (row.region < 0) {
            problem(fields[1].second, "no region \"" + std::string(fields[1].first) + "\"; the regions are " +
                                          region_list(regions));
            return true;
        }
        const auto rtt = decimal(fields[2].first);
        if (!rtt || !valid_rtt(*rtt)) {
            problem(fields[2].second, "\"" + std::string(fields[2].first) +
                                          "\" is not an RTT; give milliseconds above 0 and at most 60000, such as 18.5");
            return true;
        }
        row.rtt_ms = static_cast<float>(*rtt);
        if (!seen.emplace(row.network, row.region).second) {
            problem(fields[0].second, to_string(row.network) + " is listed twice for region \"" +
                                          std::string(fields[1].first) + "\"; keep one line");
            return true;
        }
        rows.push_back(row);
        return true;
    });
    return rows;
}

std::vector<TableRow> load_table(const std::string& path, std::span<const std::string_view> regions,
                                 core::Diagnostics& diagnostics) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    if (in) text << in.rdbuf();
    if (!in || in.bad()) {
        diagnostics.push_back({path, 0, 0, std::string("cannot read the latency table: ") + std::strerror(errno)});
        return {};
    }
    return parse_table(text.str(), path, regions, diagnostics);
}

Cell& Measurements::cell(NetworkKey network, int32_t region) {
    auto [it, added] = rows_.try_emplace(network, static_cast<uint32_t>(keys_.size()));
    if (added) {
        keys_.push_back(network);
        cells_.resize(cells_.size() + regions_);
        locations_.emplace_back();
    }
    return cells_[size_t{it->second} * regions_ + static_cast<size_t>(region)];
}

void Measurements::add(const Beacon& beacon, uint32_t now_s) {
    Cell& c = cell(network_of(beacon.client), beacon.region);
    // A clock that stepped back decays nothing.
    const double age_s = now_s > c.updated_s ? double(now_s - c.updated_s) : 0.0;
    const double weight = double(c.weight) * std::exp2(-age_s / half_life_s_) + 1.0;
    c.mean_ms = static_cast<float>(c.mean_ms + (beacon.rtt_ms - c.mean_ms) / weight);
    c.weight = static_cast<float>(weight);
    if (c.samples < std::numeric_limits<uint32_t>::max()) ++c.samples;
    c.updated_s = std::max(c.updated_s, now_s);
}

Cell merge(const Cell& a, const Cell& b, uint32_t half_life_s) {
    if (b.samples == 0) return a;
    Cell out = a;
    out.updated_s = std::max(a.updated_s, b.updated_s);
    out.samples = a.samples > std::numeric_limits<uint32_t>::max() - b.samples ? std::numeric_limits<uint32_t>::max()
                                                                               : a.samples + b.samples;
    if (a.samples == 0) {
        out.mean_ms = b.mean_ms;
        out.weight = b.weight;
        return out;
    }
    auto decayed = [&](const Cell& c) { return double(c.weight) * std::exp2(-double(out.updated_s - c.updated_s) / half_life_s); };
    const double weight_a = decayed(a), weight_b = decayed(b);
    out.weight = static_cast<float>(weight_a + weight_b);
    out.mean_ms = static_cast<float>((weight_a * a.mean_ms + weight_b * b.mean_ms) / (weight_a + weight_b));
    return out;
}

void Measurements::set_beacons(NetworkKey network, int32_t region, const Cell& aggregate) {
    Cell& c = cell(network, region);
    c.mean_ms = aggregate.mean_ms;
    c.weight = aggregate.weight;
    c.samples = aggregate.samples;
    c.updated_s = aggregate.updated_s;
}

void Measurements::set_table(std::span<const TableRow> rows) {
    for (Cell& c : cells_) c.table_ms = NAN;
    for (const TableRow& row : rows) cell(row.network, row.region).table_ms = row.rtt_ms;
}

int64_t Measurements::find(NetworkKey network) const {
    auto it = rows_.find(network);
    return it == rows_.end() ? -1 : int64_t{it->second};
}

void Measurements::locate(const geo::Database* database, bool again) {
    if (again) located_ = 0;
    for (; located_ < keys_.size(); ++located_)
        locations_[located_] = database ? database->lookup(first_address(keys_[located_])).place.location : std::nullopt;
}

std::string Measurements::save(std::span<const std::string_view> regions) const {
    std::string out(state_header);
    out += '\n';
    char number[64];
    for (size_t row = 0; row < keys_.size(); ++row) {
        const auto row_cells = cells(row);
        for (size_t r = 0; r < regions_; ++r) {
            const Cell& c = row_cells[r];
            if (c.samples == 0) continue;
            out += to_string(keys_[row]);
            out += ',';
            out += regions[r];
            // The shortest text that reads back as the same float.
            for (float value : {c.mean_ms, c.weight}) {
                auto end = std::to_chars(number, number + sizeof number, value).ptr;
                out += ',';
                out.append(number, end);
            }
            out += ',' + std::to_string(c.samples) + ',' + std::to_string(c.updated_s) + '\n';
        }
    }
    return out;
}

void Measurements::restore(std::string_view text, const std::string& file, std::span<const std::string_view> regions,
                           std::string& warning) {
    if (!text.starts_with(state_header)) {
        warning = core::Diagnostic{file, 1, 1, "not a dnsd latency measurements file of version 1"}.to_string();
        return;
    }
    for_each_line(text, [&](uint32_t number, std::string_view line) {
        const auto fields = fields_of(line);
        auto fail = [&](uint32_t column, std::string message) {
            warning = core::Diagnostic{file, number, column, std::move(message)}.to_string();
            return false;
        };
        if (fields.size() != 6) return fail(1, "expected network,region,mean_ms,weight,samples,updated_s");
        std::string why;
        const auto network = table_network(fields[0].first, why);
        if (!network) return fail(fields[0].second, why);
        const int32_t region = region_index(regions, fields[1].first);
        if (region < 0) return true;  // a region no longer configured
        const auto mean = decimal(fields[2].first);
        const auto weight = decimal(fields[3].first);
        const auto samples = integer<uint32_t>(fields[4].first);
        const auto updated = integer<uint32_t>(fields[5].first);
        if (!mean || !valid_rtt(*mean)) return fail(fields[2].second, "not an RTT");
        if (!weight || *weight <= 0) return fail(fields[3].second, "not a weight");
        if (!samples || *samples == 0) return fail(fields[4].second, "not a sample count");
        if (!updated) return fail(fields[5].second, "not a Unix time");
        Cell& c = cell(*network, region);
        c.mean_ms = static_cast<float>(*mean);
        c.weight = static_cast<float>(*weight);
        c.samples = *samples;
        c.updated_s = *updated;
        return true;
    });
    if (!warning.empty()) *this = Measurements(regions_, half_life_s_);
}

size_t Measurements::memory_bytes() const {
    // An unordered_map node holds the pair and a next pointer (and the cached
    // hash is not kept for integers); plus one bucket pointer per bucket.
    const size_t node = sizeof(void*) + sizeof(std::pair<const NetworkKey, uint32_t>);
    return rows_.size() * node + rows_.bucket_count() * sizeof(void*) + keys_.capacity() * sizeof(NetworkKey) +
           cells_.capacity() * sizeof(Cell) + locations_.capacity() * sizeof(std::optional<geo::Location>);
}

}  // namespace dnsd::latency
