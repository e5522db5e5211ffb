#pragma once
// The status page (SPEC §8, GET /): the files of dnsd/control/page/, built
// into the binary by page/embed.cmake, so that a browser needs nothing but
// this endpoint to show it.
#include <span>
#include <string_view>

namespace dnsd::control {

struct PageFile {
    std::string_view path;          // "/" for index.html, else "/" and the file's name
    std::string_view content_type;  // by the file's extension
    std::string_view body;
};

std::span<const PageFile> page_files();

}  // namespace dnsd::control
