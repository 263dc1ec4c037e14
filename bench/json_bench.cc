// The JSON parsers packaged in Debian on the same documents (the original's
// format: indent 4, sorted keys), to justify the one ParseJson uses, plus
// our writer against nlohmann's dump(4).
//
// Every parser builds its full document tree and validates UTF-8 (the
// store must reject invalid text as kDataLoss): simdjson's DOM, boost::json,
// RapidJSON with kParseValidateEncodingFlag, nlohmann. "ours" is ParseJson:
// simdjson, then conversion to nlohmann::json, the value type of our API.

#include <benchmark/benchmark.h>
#include <rapidjson/document.h>
#include <simdjson.h>

#include <boost/json.hpp>
#include <string>

#include "backends/json.h"
#include "bench_util.h"

namespace backends::bench {
namespace {

const std::string& Document(int64_t size) {
  static const std::string small = ToOriginalJson(MakeJsonDocument(1 << 10));
  static const std::string large = ToOriginalJson(MakeJsonDocument(64 << 10));
  return size <= (1 << 10) ? small : large;
}

void Finish(benchmark::State& state, const std::string& text) {
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() *
                          static_cast<int64_t>(text.size()));
}

void BM_ParseOurs(benchmark::State& state) {
  const auto& text = Document(state.range(0));
  for (auto _ : state) {
    auto value = ParseJson(text);
    if (!value.ok()) Die("ParseJson");
    benchmark::DoNotOptimize(value);
  }
  Finish(state, text);
}

void BM_ParseSimdjson(benchmark::State& state) {
  const auto& text = Document(state.range(0));
  simdjson::dom::parser parser;
  for (auto _ : state) {
    simdjson::dom::element root;
    if (parser.parse(text.data(), text.size()).get(root)) Die("simdjson");
    benchmark::DoNotOptimize(root);
  }
  Finish(state, text);
}

void BM_ParseBoost(benchmark::State& state) {
  const auto& text = Document(state.range(0));
  for (auto _ : state) {
    boost::system::error_code ec;
    boost::json::value value = boost::json::parse(text, ec);
    if (ec) Die("boost::json");
    benchmark::DoNotOptimize(value);
  }
  Finish(state, text);
}

void BM_ParseRapidjson(benchmark::State& state) {
  const auto& text = Document(state.range(0));
  for (auto _ : state) {
    rapidjson::Document doc;
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(text.data(), text.size());
    if (doc.HasParseError()) Die("rapidjson");
    benchmark::DoNotOptimize(doc);
  }
  Finish(state, text);
}

void BM_ParseNlohmann(benchmark::State& state) {
  const auto& text = Document(state.range(0));
  for (auto _ : state) {
    Json value = Json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (value.is_discarded()) Die("nlohmann");
    benchmark::DoNotOptimize(value);
  }
  Finish(state, text);
}

void BM_WriteOurs(benchmark::State& state) {
  const auto& text = Document(state.range(0));
  Json value = Json::parse(text);
  for (auto _ : state) {
    auto out = DumpJson(value);
    if (!out.ok()) Die("DumpJson");
    benchmark::DoNotOptimize(out);
  }
  Finish(state, text);
}

void BM_WriteNlohmann(benchmark::State& state) {
  const auto& text = Document(state.range(0));
  Json value = Json::parse(text);
  for (auto _ : state) {
    std::string out = value.dump(4);
    benchmark::DoNotOptimize(out);
  }
  Finish(state, text);
}

void Sizes(benchmark::internal::Benchmark* b) {
  b->Arg(1 << 10)->Arg(64 << 10);
}

BENCHMARK(BM_ParseOurs)->Name("json/parse/ours")->Apply(Sizes);
BENCHMARK(BM_ParseSimdjson)->Name("json/parse/simdjson")->Apply(Sizes);
BENCHMARK(BM_ParseBoost)->Name("json/parse/boost")->Apply(Sizes);
BENCHMARK(BM_ParseRapidjson)->Name("json/parse/rapidjson")->Apply(Sizes);
BENCHMARK(BM_ParseNlohmann)->Name("json/parse/nlohmann")->Apply(Sizes);
BENCHMARK(BM_WriteOurs)->Name("json/write/ours")->Apply(Sizes);
BENCHMARK(BM_WriteNlohmann)->Name("json/write/nlohmann")->Apply(Sizes);

}  // namespace
}  // namespace backends::bench

BENCHMARK_MAIN();
