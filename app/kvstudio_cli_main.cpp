#include "cli/cli_app.h"

int main(int argc, char** argv) {
  return kvs::cli::runCli(argc, argv);
}
