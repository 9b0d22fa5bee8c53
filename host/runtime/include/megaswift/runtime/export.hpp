// MEGASWIFT_RUNTIME_API marks what libmegaswift_runtime.so exports: the megaswift::runtime classes and functions.
// Everything else in the library (the host, its third-party libraries) is hidden.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define MEGASWIFT_RUNTIME_API __attribute__((visibility("default")))
#else
#define MEGASWIFT_RUNTIME_API
#endif
