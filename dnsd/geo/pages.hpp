#pragma once
// Whole pages from the system, for the geo map's big arrays: the trie and the
// tables that build it.
//
// They are megabytes, built at start-up and again by every GeoIP reload on a
// thread-pool thread. Taken from malloc, a reload's share would land in that
// thread's arena, whose freed top glibc keeps resident (malloc_trim gives back
// only the main arena's top): each reload would leave megabytes behind. Pages
// from mmap go back to the system the moment they are freed.
#include <cstddef>

namespace dnsd::geo {

void* map_pages(std::size_t bytes);  // throws std::bad_alloc
void unmap_pages(void* pages, std::size_t bytes) noexcept;

template <typename T>
struct PageAllocator {
    using value_type = T;

    PageAllocator() = default;
    template <typename U>
    PageAllocator(const PageAllocator<U>&) noexcept {}

    T* allocate(std::size_t count) { return static_cast<T*>(map_pages(count * sizeof(T))); }
    void deallocate(T* pointer, std::size_t count) noexcept { unmap_pages(pointer, count * sizeof(T)); }

    template <typename U>
    bool operator==(const PageAllocator<U>&) const noexcept {
        return true;
    }
};

}  // namespace dnsd::geo
