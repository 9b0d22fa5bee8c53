// The options library in one include: the registry of every flag, parsing in ms-swift syntax,
// derived defaults and cross-flag rules, args.json, help and docs/cli.md.
#pragma once

#include "host/config/args.hpp"
#include "host/config/args_json.hpp"
#include "host/config/command.hpp"
#include "host/config/error.hpp"
#include "host/config/help.hpp"
#include "host/config/option.hpp"
#include "host/config/values.hpp"
