#include "registry.h"

namespace modelseal {

void RegisterBlake3(Napi::Env, Napi::Object) {}

}  // namespace modelseal
