#pragma once
// One editor widget per compression parameter spec (compress/param_spec.h): a spin box for
// numbers, a check box for switches, a combo box for choices, a line edit for lists and seeds.
// The Parameters panel builds itself from these, so a new method's parameters appear with no
// panel code.

#include <QString>
#include <functional>
#include <nlohmann/json.hpp>

#include "compress/param_spec.h"

class QWidget;

namespace kvs::ui {

// The widget's object name: the flag in camelCase ("budget-tokens" -> "budgetTokens"), or the
// key's for a "--no-..."-style switch, whose widget shows the positive setting ("scaleValues").
QString fieldObjectName(const kvs::ParamSpec& spec);
// onChange is called once per edit (not per keystroke).
QWidget* makeParamField(const kvs::ParamSpec& spec, QWidget* parent,
                        const std::function<void()>& onChange);
// The value shown (as spec.get returns it) and showing one; a field that does not parse (a list
// being typed) reads as nullopt-like null.
nlohmann::json fieldValue(const kvs::ParamSpec& spec, const QWidget* field);
void setFieldValue(const kvs::ParamSpec& spec, QWidget* field, const nlohmann::json& value);

}  // namespace kvs::ui
