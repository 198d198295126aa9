// The registered compression methods, in the order the CLI, the Parameters panel and compare list
// them: one line each, KVS_METHOD(<the function in its file that returns its descriptor>).
// Included by method_registry.cpp only.
KVS_METHOD(fullMethod)
KVS_METHOD(streamingMethod)
KVS_METHOD(h2oMethod)
KVS_METHOD(camMethod)
KVS_METHOD(kvmergerMethod)
KVS_METHOD(snapkvMethod)
