#pragma once
// Domain names on the wire (RFC 1035 §3.1, §4.1.4): parsing with compression
// pointers, and the small helpers the answer path needs on uncompressed names.
#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "dnsd/wire/buffer.hpp"

namespace dnsd::wire {

inline constexpr size_t max_name_size = 255;  // octets, root label included
inline constexpr size_t max_label_size = 63;

// A name read from a message, uncompressed, kept twice: as sent (to echo the
// client's case) and lower-cased (to look it up).
struct ParsedName {
    std::array<uint8_t, max_name_size> as_is{};
    std::array<uint8_t, max_name_size> lower{};
    size_t size = 0;

    std::span<const uint8_t> as_is_bytes() const { return {as_is.data(), size}; }
    std::string_view lower_view() const {
        return {reinterpret_cast<const char*>(lower.data()), size};
    }
};

// Reads the name at the reader's position; the reader must span the whole
// message, since pointers are offsets from its start. Every pointer must point
// before the run of labels that led to it, which rules out loops and forward
// pointers. Fails on a truncated name, a label type other than 00 or 11, a
// label over 63 octets, or a name over 255 octets. On success the reader sits
// just past the name's own bytes (after its first pointer, if any).
bool read_name(Reader& reader, ParsedName& name);

inline uint8_t to_lower(uint8_t c) { return c >= 'A' && c <= 'Z' ? static_cast<uint8_t>(c + 32) : c; }

// The size of the well-formed uncompressed name at the start of `bytes`
// (root label included), or 0 if there is none.
size_t name_size(std::span<const uint8_t> bytes);

// `name` with its first label removed; `name` must be well-formed and not the root.
inline std::string_view parent(std::string_view name) {
    return name.substr(1 + static_cast<uint8_t>(name[0]));
}

inline std::string_view as_view(std::span<const uint8_t> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}
inline std::span<const uint8_t> as_bytes(std::string_view text) {
    return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

}  // namespace dnsd::wire
