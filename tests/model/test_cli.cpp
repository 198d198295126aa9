// kvstudio-cli as a user runs it: output, JSON, and a clear one-line error for each bad input.

#include <ATen/Context.h>
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_runner.h"
#include "model/hf_export.h"
#include "model/llama2c_checkpoint.h"
#include "test_util.h"
#include "tokenizer/chat_template.h"

namespace kvs::test {
namespace {

CliRun runCli(const std::string& args) {
  return runCliCommand(args);
}

const std::string kModel = "--model " + modelPath("stories260K.bin");

TEST(Cli, GenerateGreedyPrintsWhatLlama2cPrints) {
  const CliRun r =
      runCli("generate " + kModel + " --prompt 'Once upon a time' --steps 64 --temperature 0");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, readFile(goldenPath("greedy_once_upon_a_time_n64.txt")));
  EXPECT_NE(r.err.find("using tokenizer"), std::string::npos);
  EXPECT_NE(r.err.find("tokens/s"), std::string::npos);
}

TEST(Cli, GenerateBosOnlyMatchesTheNoPromptReference) {
  const CliRun r = runCli("generate " + kModel + " --bos-only --steps 200 --temperature 0");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, readFile(goldenPath("greedy_noprompt_n200.txt")));
}

TEST(Cli, GenerateJsonHasIdsTextAndTimings) {
  const CliRun r = runCli("generate " + kModel +
                          " --prompt 'Once upon a time' --steps 64 --temperature 0 --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const std::vector<int> golden = readIds(goldenPath("greedy_once_upon_a_time_n64.tokens.txt"));
  EXPECT_EQ(j.at("prompt_token_ids").get<std::vector<int>>(),
            std::vector<int>(golden.begin(), golden.begin() + 5));
  EXPECT_EQ(j.at("generated_token_ids").get<std::vector<int>>(),
            std::vector<int>(golden.begin() + 5, golden.end()));
  std::string text = readFile(goldenPath("greedy_once_upon_a_time_n64.txt"));
  text = text.substr(std::string("Once upon a time").size());
  text.pop_back();  // llama2.c's final newline
  EXPECT_EQ(j.at("text").get<std::string>(), text);
  EXPECT_GT(j.at("prefill_seconds").get<double>(), 0.0);
  EXPECT_GT(j.at("decode_tokens_per_second").get<double>(), 0.0);
  EXPECT_EQ(j.at("steps").get<int>(), 64);
  EXPECT_EQ(j.at("config").at("n_kv_heads").get<int>(), 4);
  EXPECT_TRUE(j.contains("seed"));
}

TEST(Cli, SampledGenerationIsReproducibleWithSeed) {
  const std::string args =
      "generate " + kModel + " --prompt 'The little dog' --steps 80 --seed 7 --json";
  const auto a = nlohmann::json::parse(runCli(args).out);
  const auto b = nlohmann::json::parse(runCli(args).out);
  EXPECT_EQ(a.at("generated_token_ids"), b.at("generated_token_ids"));
  EXPECT_EQ(a.at("seed").get<uint64_t>(), 7u);
}

TEST(Cli, TokenizeShowsIdsWithBosAndPieces) {
  const CliRun r = runCli("tokenize --tokenizer " + modelPath("tok512.model") +
                          " --text 'Once upon a time' --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("ids").get<std::vector<int>>(), (std::vector<int>{1, 403, 407, 261, 378}));
  EXPECT_EQ(j.at("pieces").at(1).get<std::string>(), "\xE2\x96\x81Once");
  const CliRun plain =
      runCli("tokenize --tokenizer " + modelPath("tok512.model") + " --text 'The little dog'");
  EXPECT_EQ(plain.out.substr(0, plain.out.find('\n')), "1 291 376 400 428");
}

TEST(Cli, InfoDescribesModelAndRuntime) {
  const CliRun r = runCli("info " + kModel + " --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("config").at("dim").get<int>(), 64);
  EXPECT_EQ(j.at("parameters").get<int64_t>(),
            (1056540 - 28 - 16384) / 4);  // file less header, RoPE tables
  EXPECT_EQ(j.at("kv_cache_bytes_per_token").get<int64_t>(), 2 * 5 * 32 * 4);
  EXPECT_EQ(j.at("dtype").get<std::string>(), "float32");
  EXPECT_FALSE(j.at("blas").get<std::string>().empty());
  const CliRun text = runCli("info " + kModel);
  EXPECT_NE(text.out.find("BLAS:"), std::string::npos);
  EXPECT_NE(text.out.find("threads:"), std::string::npos);
  // Which code the projections take: this float32 model's line, and every dtype's.
  EXPECT_EQ(j.at("matmuls").get<std::string>().rfind("float32: one token ", 0), 0u) << r.out;
  ASSERT_EQ(j.at("matmul_paths").size(), 3u);
  EXPECT_EQ(j.at("matmul_paths").at(1).get<std::string>().rfind("bfloat16: ", 0), 0u);
  EXPECT_NE(text.out.find("matmuls:          float32: one token "), std::string::npos);
  const CliRun bf16 = runCli("info " + kModel + " --dtype bf16 --json");
  ASSERT_EQ(bf16.exitCode, 0) << bf16.err;
  EXPECT_EQ(nlohmann::json::parse(bf16.out).at("matmuls").get<std::string>().rfind("bfloat16", 0),
            0u);
}

TEST(Cli, HelpOnEveryCommand) {
  for (const std::string cmd : {"", "generate ", "tokenize ", "info "}) {
    const CliRun r = runCli(cmd + "--help");
    EXPECT_EQ(r.exitCode, 0) << cmd;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << cmd;
  }
}

TEST(Cli, GenerateWithKVMergerReportsMemoryAndSlots) {
  const CliRun r = runCli("generate " + kModel +
                          " --prompt 'Once upon a time, there was a little girl named Lily. She "
                          "loved to play outside in the park.' --steps 80 --temperature 0 "
                          "--method kvmerger --budget 0.5 --sigma-mode mean-distance --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("compression").at("method").get<std::string>(), "kvmerger");
  EXPECT_EQ(j.at("compression").at("sigma_mode").get<std::string>(), "mean-distance");
  const auto full = j.at("kv_bytes_full").get<int64_t>(), held = j.at("kv_bytes").get<int64_t>();
  EXPECT_EQ(full, int64_t{1280} * j.at("prompt_token_ids").size());  // 1280 bytes per token
  EXPECT_LE(held, full * 0.52);
  ASSERT_EQ(j.at("slots").size(), 5u);     // layers
  ASSERT_EQ(j.at("slots")[0].size(), 4u);  // KV heads
  EXPECT_NEAR(j.at("achieved_ratio").get<double>(), 0.5, 0.03);
  EXPECT_EQ(j.at("kv_bytes_per_layer").size(), 5u);
  // The exact budget's eps, searched per (layer, KV head), is reported.
  ASSERT_EQ(j.at("eps_used").size(), 5u);
  for (const auto& layer : j.at("eps_used")) {
    ASSERT_EQ(layer.size(), 4u);
    for (const auto& eps : layer) {
      ASSERT_TRUE(eps.is_number()) << eps;
      EXPECT_GE(eps.get<double>(), -1.0);
      EXPECT_LE(eps.get<double>(), 1.0001);
    }
  }
  EXPECT_EQ(j.at("protected_released").size(), 5u);
}

// ---------------------------------------------------------------------------- bad input

void expectCleanError(const CliRun& r, const std::string& needle) {
  EXPECT_NE(r.exitCode, 0);
  EXPECT_LT(r.exitCode, 128) << "killed by a signal: " << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << "stderr: " << r.err;
  EXPECT_EQ(r.err.find("terminate called"), std::string::npos);
  // One line of error (notes such as "using tokenizer" may precede it).
  const std::string last = r.err.substr(r.err.rfind("kvstudio-cli: error:"));
  EXPECT_EQ(last.find('\n'), last.size() - 1) << r.err;
}

class CliBadInput : public ::testing::Test {
 protected:
  TempDir dir;
  std::string copyOfModel(const std::string& name, long sizeDelta) {
    std::string bytes = readFile(modelPath("stories260K.bin"));
    if (sizeDelta < 0) bytes.resize(bytes.size() + sizeDelta);
    if (sizeDelta > 0) bytes += std::string(sizeDelta, '\0');
    writeFile(dir.file(name), bytes);
    return dir.file(name);
  }
};

TEST_F(CliBadInput, MissingModelFile) {
  expectCleanError(runCli("generate --model /nonexistent/m.bin --prompt hi"), "model not found");
}

TEST_F(CliBadInput, TruncatedCheckpoint) {
  expectCleanError(runCli("generate --model " + copyOfModel("t.bin", -1000) + " --prompt hi"),
                   "truncated model file");
}

TEST_F(CliBadInput, OversizedCheckpoint) {
  expectCleanError(runCli("info --model " + copyOfModel("o.bin", 64)),
                   "larger than its header implies");
}

TEST_F(CliBadInput, FileThatIsNotACheckpoint) {
  expectCleanError(runCli("generate --model " + modelPath("tok512.model") + " --prompt hi"),
                   "not a llama2.c checkpoint");
}

TEST_F(CliBadInput, TokenizerWithAnotherVocabulary) {
  expectCleanError(runCli("generate " + kModel + " --tokenizer " + modelPath("tokenizer.model") +
                          " --prompt hi"),
                   "has 32000 pieces but model");
}

TEST_F(CliBadInput, NoTokenizerNextToTheModel) {
  const std::string model = copyOfModel("alone.bin", 0);
  expectCleanError(runCli("generate --model " + model + " --prompt hi"), "(--tokenizer PATH)");
}

TEST_F(CliBadInput, EmptyPrompt) {
  expectCleanError(runCli("generate " + kModel + " --prompt ''"), "the prompt is empty");
  expectCleanError(runCli("generate " + kModel), "no prompt");
}

TEST_F(CliBadInput, PromptLongerThanTheContext) {
  std::string prompt;
  for (int i = 0; i < 300; ++i) prompt += "the dog ";
  expectCleanError(runCli("generate " + kModel + " --steps 512 --prompt '" + prompt + "'"),
                   "the model's context is 512 positions");
}

TEST_F(CliBadInput, StepsBeyondTheContext) {
  expectCleanError(runCli("generate " + kModel + " --prompt hi --steps 1000"),
                   "exceeds the model's context of 512");
}

TEST_F(CliBadInput, StepsBelowThePrompt) {
  expectCleanError(runCli("generate " + kModel + " --prompt 'Once upon a time' --steps 3"),
                   "less than the prompt's 5 tokens");
}

TEST_F(CliBadInput, PromptLongerThanTheContextWithDefaultSteps) {
  std::string prompt;
  for (int i = 0; i < 300; ++i) prompt += "the dog ";
  expectCleanError(runCli("generate " + kModel + " --prompt '" + prompt + "'"),
                   "the model's context is 512 positions; shorten the prompt");
}

TEST_F(CliBadInput, FoldersInsteadOfFiles) {
  expectCleanError(runCli("generate --model " + modelsDir() + " --prompt hi"),
                   "has no config.json, so it is not a Hugging Face model folder");
  expectCleanError(runCli("generate " + kModel + " --tokenizer " + modelsDir() + " --prompt hi"),
                   "tokenizer path is a folder");
}

TEST_F(CliBadInput, BadSamplingIsRefusedBeforeAnythingIsPrinted) {
  for (const std::string bad : {"--top-p 0", "--top-p 1.5", "--top-p nan", "--temperature inf"}) {
    const CliRun r = runCli("generate " + kModel + " --prompt hi " + bad);
    expectCleanError(r, bad.substr(0, bad.find(' ')));
    EXPECT_EQ(r.out, "") << bad;
  }
  const CliRun steps = runCli("generate " + kModel + " --prompt hi --steps 0");
  expectCleanError(steps, "must be a whole number > 0, got '0'");
}

TEST(Cli, NonUtf8PromptStillGivesValidJson) {
  // /bin/sh's printf writes the Latin-1 byte 0xE9, which is not UTF-8.
  const CliRun r =
      runCli("generate " + kModel + " --prompt \"$(printf 'caf\\351')\" --steps 10 --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j.at("prompt").get<std::string>(), "caf\xEF\xBF\xBD");
}

TEST(Cli, ThreadsMayFollowTheCommandAndAreCappedAtTheCores) {
  const CliRun r = runCli("info " + kModel + " --threads 1000");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_NE(r.err.find("is more than the"), std::string::npos) << r.err;
}

TEST_F(CliBadInput, UnknownFlagAndBadValues) {
  expectCleanError(runCli("generate " + kModel + " --prompt hi --frobnicate"), "--frobnicate");
  expectCleanError(runCli("generate " + kModel + " --prompt hi --temperature -1"), "--temperature");
  expectCleanError(runCli("generate " + kModel + " --prompt hi --steps abc"), "--steps");
  expectCleanError(runCli("frobnicate"), "frobnicate");
  expectCleanError(runCli("generate --prompt hi"), "--model");
}

TEST(Cli, CompareWritesOneCsvRowPerVariant) {
  const CliRun r = runCli("compare " + kModel +
                          " --prompt 'Once upon a time, there was a little girl named Lily. She "
                          "loved to play outside in the park.' --methods h2o,kvmerger --budgets "
                          "0.5 --new-tokens 20 --csv");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(line);
  ASSERT_EQ(rows.size(), 4u);  // header, full, h2o, kvmerger
  EXPECT_EQ(rows[0].substr(0, 20), "prompt,method,budget");
  EXPECT_EQ(rows[1].substr(0, 7), "0,full,");
  EXPECT_EQ(rows[3].substr(0, 15), "0,kvmerger,0.5,");
  EXPECT_NE(r.err.find("2/2 variants"), std::string::npos);
}

// --new-tokens N decodes N tokens (it decoded N + 1), more than the context leaves is said, and
// --steps beside it is refused rather than one of them ignored.
TEST(Cli, CompareNewTokensIsTheTokensDecoded) {
  const CliRun r =
      runCli("compare " + kModel + " --prompt 'Once upon a time' --new-tokens 4 --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto json = nlohmann::json::parse(r.out);
  for (const auto& v : json["variants"]) EXPECT_EQ(v["generated_token_ids"].size(), 4u);
  const CliRun capped =
      runCli("compare " + kModel + " --prompt 'Once upon a time' --new-tokens 600 --methods full");
  ASSERT_EQ(capped.exitCode, 0) << capped.err;
  EXPECT_NE(capped.err.find("--new-tokens 600 capped at 508"), std::string::npos) << capped.err;
  expectCleanError(runCli("compare " + kModel + " --prompt hi --steps 8 --new-tokens 4"),
                   "--new-tokens");
}

TEST_F(CliBadInput, BadCompressionParametersNameTheParameter) {
  const std::string base = "generate " + kModel + " --prompt hi ";
  expectCleanError(runCli(base + "--method kvmerger --budget 0"), "--budget: must be in (0, 1]");
  expectCleanError(runCli(base + "--method kvmerger --budget 1.5"), "--budget: must be in (0, 1]");
  expectCleanError(runCli(base + "--method lz77"), "unknown method 'lz77'; use one of: full");
  expectCleanError(runCli(base + "--method kvmerger --sigma -1"), "--sigma: must be > 0");
  expectCleanError(runCli(base + "--method kvmerger --eps 2 --approximate-budget"),
                   "--eps: must be in [-1, 1.0001]");
  // Nothing given is ignored in silence: an exact budget searches eps itself.
  expectCleanError(runCli(base + "--method kvmerger --eps 0.9"),
                   "--eps has no effect with an exact budget");
  expectCleanError(runCli(base + "--method kvmerger --eps 0.9"), "add --approximate-budget");
  // Both count a merged slot n times: together n^2.
  expectCleanError(runCli(base + "--method kvmerger --log-bias"), "--no-value-scaling");
  expectCleanError(runCli(base + "--method kvmerger --skip-layers 1,31"),
                   "skip-layers lists layer 31, but the model has 5 layers (0 to 4)");
  // Options of one method given to another, and the authors' CaM with a chunk it never uses.
  expectCleanError(runCli(base + "--method h2o --cam-base streaming"), "--cam-base applies to cam");
  expectCleanError(runCli(base + "--method h2o --streaming-positions cache"),
                   "--streaming-positions applies to streaming only");
  expectCleanError(runCli(base + "--method cam --cam-base streaming --decode-chunk 8"),
                   "evicts one token per decode step");
  expectCleanError(runCli(base + "--method streaming --streaming-positions rolling"),
                   "--streaming-positions: must be one of: original, cache, got 'rolling'");
  expectCleanError(runCli(base + "--method kvmerger --sigma-mode wide"),
                   "--sigma-mode: must be one of: fixed, mean-distance, literal");
  expectCleanError(runCli(base + "--method kvmerger --budget 0.2 --recent 0.17 --protected 0.12"),
                   "smaller than the recent + protected");
}

TEST(Cli, RunsAHuggingFaceFolderInEveryDtype) {
  TempDir dir;
  const Llama2cCheckpoint bin = readLlama2cCheckpoint(modelPath("stories260K.bin"));
  HfExportOptions options;
  options.tokenizerPath = modelPath("tok512.model");
  const std::string folder = dir.file("stories-hf");
  writeHfCheckpoint(folder, bin.config, bin.weights, options);
  // The folder's own tokenizer.model, and llama2.c's greedy text.
  const CliRun r = runCli("generate --model " + folder +
                          " --prompt 'Once upon a time' --steps 64 --temperature 0");
  EXPECT_EQ(r.exitCode, 0) << r.err;
  EXPECT_EQ(r.out, readFile(goldenPath("greedy_once_upon_a_time_n64.txt")));
  EXPECT_NE(r.err.find(folder + "/tokenizer.model"), std::string::npos) << r.err;

  const CliRun half = runCli("generate --model " + folder +
                             " --prompt 'Once upon a time' --steps 20 --temperature 0 --json "
                             "--dtype bf16 --kv-dtype fp16");
  ASSERT_EQ(half.exitCode, 0) << half.err;
  const auto j = nlohmann::json::parse(half.out);
  EXPECT_EQ(j.at("dtype"), "bfloat16");
  EXPECT_EQ(j.at("compute_dtype"), "bfloat16");
  EXPECT_EQ(j.at("kv_dtype"), "float16");
  EXPECT_EQ(j.at("kv_bytes_full").get<int64_t>(), 5 * (2 * 5 * 32 * 2));  // 5 prompt tokens
  EXPECT_EQ(j.at("weight_bytes").get<int64_t>(), (1056540 - 28 - 16384) / 2);

  const CliRun info = runCli("info --model " + folder + " --dtype fp16 --kv-dtype bf16 --json");
  ASSERT_EQ(info.exitCode, 0) << info.err;
  const auto i = nlohmann::json::parse(info.out);
  EXPECT_EQ(i.at("format"), "Hugging Face safetensors (1 file)");
  EXPECT_EQ(i.at("stored_dtype"), "float32");
  EXPECT_EQ(i.at("compute_dtype"), "float32");  // fp16 on the CPU computes in fp32
  EXPECT_EQ(i.at("kv_cache_bytes_per_token").get<int64_t>(), 2 * 5 * 32 * 2);
  EXPECT_EQ(i.at("config").at("rope_style"), "half-split");
}

TEST_F(CliBadInput, BadDtypeAndUnavailableDeviceAreNamed) {
  expectCleanError(runCli("generate " + kModel + " --prompt hi --dtype fp8"),
                   "--dtype must be fp32, bf16, fp16 or auto, got 'fp8'");
  expectCleanError(runCli("info " + kModel + " --kv-dtype int8"),
                   "--kv-dtype must be fp32, bf16, fp16 or auto, got 'int8'");
  expectCleanError(runCli("info " + kModel + " --device tpu"), "--device must be cpu or cuda");
  if (!at::hasCUDA()) {
    expectCleanError(runCli("generate " + kModel + " --prompt hi --device cuda"),
                     "--device cuda: ");
  }
}

TEST(Cli, ChatWrapsThePromptAndStopsAtTheEndToken) {
  const CliRun r = runCli("generate " + kModel +
                          " --chat --system 'Be kind.' --prompt 'Tell me a story' --steps 512 "
                          "--temperature 0 --json");
  ASSERT_EQ(r.exitCode, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  const Tokenizer tok = Tokenizer::load(modelPath("tok512.model"));
  EXPECT_EQ(j.at("prompt_token_ids").get<std::vector<int>>(),
            encodeLlama2Chat(tok, "Be kind.", {{"Tell me a story", ""}}));
  EXPECT_EQ(j.at("chat"), true);
  // stories260K ends a story with BOS; generation stops there, well before --steps.
  EXPECT_EQ(j.at("stop_reason"), "stop_token");
  const auto ids = j.at("generated_token_ids").get<std::vector<int>>();
  EXPECT_LT(ids.size() + j.at("prompt_token_ids").size(), 512u);
  EXPECT_TRUE(ids.back() == tok.bosId() || ids.back() == tok.eosId());
  // Text mode prints the answer only, not the [INST] prompt.
  const CliRun text = runCli("generate " + kModel +
                             " --chat --prompt 'Tell me a story' --steps 40 --temperature 0");
  EXPECT_EQ(text.exitCode, 0) << text.err;
  EXPECT_EQ(text.out.find("[INST]"), std::string::npos) << text.out;
  expectCleanError(runCli("generate " + kModel + " --system hi --prompt hi"),
                   "--system needs --chat");
}

}  // namespace
}  // namespace kvs::test
