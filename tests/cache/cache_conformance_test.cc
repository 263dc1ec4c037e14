// Every cache and cache layer, run through the whole conformance suite.

#include <memory>

#include "backends/cache.h"
#include "backends/file.h"
#include "backends/memory.h"
#include "cache/cache_adapters.h"
#include "conformance/backend_conformance.h"
#include "conformance/view_adapter.h"
#include "testutil/faulty_backend.h"

namespace backends::testing {
namespace {

using Path = std::filesystem::path;

FactoryResult File(const Path& root) {
  BACKENDS_ASSIGN_OR_RETURN(auto file, FileBackend::Open(root));
  return std::unique_ptr<Backend>(std::move(file));
}

BackendFactory Json(std::string name, BackendFactory factory) {
  factory.name = std::move(name);
  factory.binary_values = false;
  factory.make_value = CanonicalJsonValue;
  return factory;
}

BackendFactory Text(std::string name, BackendFactory factory) {
  factory.name = std::move(name);
  factory.binary_values = false;
  factory.make_value = Utf8TextValue;
  return factory;
}

INSTANTIATE_TEST_SUITE_P(
    Caches, BackendConformanceTest,
    ::testing::Values(
        Json("EnvelopeOverMemory", {.make = [](const Path&) -> FactoryResult {
               BACKENDS_ASSIGN_OR_RETURN(
                   auto layer,
                   NewJsonEnvelopeBackend(std::make_unique<VolatileBackend>()));
               return std::unique_ptr<Backend>(std::move(layer));
             }}),
        Json("EnvelopeOverFile",
             {.make = [](const Path& root) -> FactoryResult {
               BACKENDS_ASSIGN_OR_RETURN(auto file, File(root));
               BACKENDS_ASSIGN_OR_RETURN(
                   auto layer, NewJsonEnvelopeBackend(std::move(file)));
               return std::unique_ptr<Backend>(std::move(layer));
             }}),
        BackendFactory{.name = "ModifiedTimeOverFile",
                       .make = [](const Path& root) -> FactoryResult {
                         BACKENDS_ASSIGN_OR_RETURN(auto file, File(root));
                         BACKENDS_ASSIGN_OR_RETURN(
                             auto layer,
                             NewModifiedTimeBackend(std::move(file)));
                         return std::unique_ptr<Backend>(std::move(layer));
                       }},
        BackendFactory{.name = "ModifiedTimeOverMemory",
                       .make = [](const Path&) -> FactoryResult {
                         BACKENDS_ASSIGN_OR_RETURN(
                             auto layer,
                             NewModifiedTimeBackend(
                                 std::make_unique<VolatileBackend>(),
                                 {.track_write_times = true}));
                         return std::unique_ptr<Backend>(std::move(layer));
                       }},
        Json("JsonCacheFolder", {.make = [](const Path& root) -> FactoryResult {
               BACKENDS_ASSIGN_OR_RETURN(auto cache, JsonCache::Open(root));
               return std::unique_ptr<Backend>(
                   std::make_unique<JsonCacheAsBackend>(std::move(cache)));
             }}),
        Json("JsonCacheMemory", {.make = [](const Path&) -> FactoryResult {
               BACKENDS_ASSIGN_OR_RETURN(auto cache, JsonCache::InMemory());
               return std::unique_ptr<Backend>(
                   std::make_unique<JsonCacheAsBackend>(std::move(cache)));
             }}),
        Json("JsonCacheLimited",
             {.make = [](const Path& root) -> FactoryResult {
               // Large enough bounds that the suite's data fits.
               BACKENDS_ASSIGN_OR_RETURN(
                   auto cache,
                   JsonCache::Open(root, {.limits = {.max_entries = 2000,
                                                     .max_bytes = 64 << 20}}));
               return std::unique_ptr<Backend>(
                   std::make_unique<JsonCacheAsBackend>(std::move(cache)));
             }}),
        Text("TextCacheFolder", {.make = [](const Path& root) -> FactoryResult {
               BACKENDS_ASSIGN_OR_RETURN(auto cache, TextCache::Open(root));
               return std::unique_ptr<Backend>(
                   std::make_unique<TextCacheAsBackend>(std::move(cache)));
             }}),
        Text("TextCacheMemory", {.make = [](const Path&) -> FactoryResult {
               BACKENDS_ASSIGN_OR_RETURN(auto cache, TextCache::InMemory());
               return std::unique_ptr<Backend>(
                   std::make_unique<TextCacheAsBackend>(std::move(cache)));
             }}),
        BackendFactory{.name = "ReadThroughMemoryOverFile",
                       .make = [](const Path& root) -> FactoryResult {
                         BACKENDS_ASSIGN_OR_RETURN(auto file, File(root));
                         BACKENDS_ASSIGN_OR_RETURN(
                             auto layer,
                             NewReadThroughBackend(
                                 std::make_unique<VolatileBackend>(),
                                 std::move(file)));
                         return std::unique_ptr<Backend>(std::move(layer));
                       }},
        BackendFactory{.name = "ReadThroughFileOverFaultyMemoryLimited",
                       .make = [](const Path& root) -> FactoryResult {
                         BACKENDS_ASSIGN_OR_RETURN(auto file, File(root));
                         BACKENDS_ASSIGN_OR_RETURN(
                             auto layer,
                             NewReadThroughBackend(
                                 std::move(file),
                                 std::make_unique<FaultyBackend>(
                                     std::make_unique<VolatileBackend>()),
                                 {.max_age = std::chrono::seconds(60),
                                  .limits = {.max_entries = 8}}));
                         return std::unique_ptr<Backend>(std::move(layer));
                       }},
        Json("ReadThroughEnvelopeOverMemory",
             {.make = [](const Path& root) -> FactoryResult {
               BACKENDS_ASSIGN_OR_RETURN(auto file, File(root));
               BACKENDS_ASSIGN_OR_RETURN(
                   auto front, NewJsonEnvelopeBackend(std::move(file)));
               BACKENDS_ASSIGN_OR_RETURN(
                   auto layer,
                   NewReadThroughBackend(std::move(front),
                                         std::make_unique<VolatileBackend>()));
               return std::unique_ptr<Backend>(std::move(layer));
             }})),
    BackendFactoryName);

}  // namespace
}  // namespace backends::testing
