#include <gtest/gtest.h>

#include "backends/memory.h"
#include "backends/view.h"
#include "conformance/backend_conformance.h"
#include "conformance/view_adapter.h"
#include "testutil/status_matchers.h"

namespace backends::testing {
namespace {

using ::testing::Optional;

INSTANTIATE_TEST_SUITE_P(
    Memory, BackendConformanceTest,
    ::testing::Values(
        BackendFactory{
            .name = "Volatile",
            .make = [](const std::filesystem::path&) -> FactoryResult {
              return std::unique_ptr<Backend>(
                  std::make_unique<VolatileBackend>());
            },
            .extra_valid_keys = {"a//b", "./x", "x/../y", "/abs", ".."},
        },
        BackendFactory{
            .name = "VolatileJson",
            .make = [](const std::filesystem::path&) -> FactoryResult {
              return std::unique_ptr<Backend>(
                  std::make_unique<ViewAsBackend<JsonCodec>>(
                      JsonBackend(std::make_unique<VolatileBackend>())));
            },
            .make_value = CanonicalJsonValue,
            .binary_values = false,
        }),
    BackendFactoryName);

TEST(VolatileBackendTest, UrlIsMemoryScheme) {
  VolatileBackend store;
  EXPECT_EQ(store.url(), "memory://");
}

TEST(VolatileBackendTest, ValuesAreCopies) {
  VolatileBackend store;
  std::string value = "abc";
  BACKENDS_ASSERT_OK(store.dump("k", value));
  value[0] = 'X';
  EXPECT_THAT(store.load("k"), IsOkAndHolds(Optional(std::string("abc"))));
}

}  // namespace
}  // namespace backends::testing
