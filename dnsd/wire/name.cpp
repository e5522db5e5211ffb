#include "dnsd/wire/name.hpp"

namespace dnsd::wire {

namespace {

constexpr uint8_t pointer_bits = 0xc0;

}  // namespace

bool read_name(Reader& reader, ParsedName& name) {
    const uint8_t* message = reader.data();
    const size_t message_size = reader.limit();
    size_t position = reader.position();
    size_t run_start = position;  // where the current run of labels began
    size_t resume = 0;            // where the reader continues once the name is read
    size_t hops = 0;
    size_t size = 0;

    // Each iteration consumes a label or a pointer: at most 128 labels fit in
    // max_name_size and at most max_pointer_hops pointers are followed (each
    // strictly before the run that led to it, so there are no loops either).
    for (;;) {
        if (position >= message_size) return false;
        const uint8_t length = message[position];
        if ((length & pointer_bits) == pointer_bits) {
            if (position + 1 >= message_size || hops == max_pointer_hops) return false;
            const size_t target = size_t{length & 0x3fu} << 8 | message[position + 1];
            if (target >= run_start) return false;  // forward, self or loop
            if (hops++ == 0) resume = position + 2;
            run_start = target;
            position = target;
            continue;
        }
        if ((length & pointer_bits) != 0) return false;  // 01 and 10: reserved / obsolete
        if (size + 1 + length > max_name_size) return false;
        if (position + 1 + length > message_size) return false;
        name.as_is[size] = length;
        name.lower[size] = length;
        for (size_t i = 1; i <= length; ++i) {
            const uint8_t c = message[position + i];
            name.as_is[size + i] = c;
            name.lower[size + i] = to_lower(c);
        }
        size += 1 + length;
        position += 1 + length;
        if (length == 0) break;
    }
    name.size = size;
    return reader.seek(hops > 0 ? resume : position);
}

bool skip_name(Reader& reader) {
    const uint8_t* message = reader.data();
    size_t position = reader.position();
    // Every label moves forward and the size bound ends the walk.
    for (size_t size = 0;;) {
        if (position >= reader.limit()) return false;
        const uint8_t length = message[position];
        if ((length & pointer_bits) == pointer_bits) return reader.seek(position + 2);
        if ((length & pointer_bits) != 0) return false;  // 01 and 10: reserved / obsolete
        size += 1 + length;
        if (size > max_name_size) return false;
        position += 1 + length;
        if (length == 0) return reader.seek(position);
    }
}

size_t name_size(std::span<const uint8_t> bytes) {
    size_t position = 0;
    while (position < bytes.size() && position < max_name_size) {
        const uint8_t length = bytes[position];
        if (length > max_label_size) return 0;
        position += 1 + length;
        if (length == 0) return position <= max_name_size ? position : 0;
    }
    return 0;
}

}  // namespace dnsd::wire
