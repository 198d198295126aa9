#pragma once
// QCustomPlot's header uses Qt's lower-case keywords (signals, slots, foreach), which kvs_ui turns
// off (QT_NO_KEYWORDS: core structs have members named `slots`). Include it only through here: the
// keywords are mapped to their Q_ forms for this one header and dropped again right after.

#include <QtGlobal>

#define signals Q_SIGNALS
#define slots Q_SLOTS
#define foreach Q_FOREACH
#include <qcustomplot.h>
#undef signals
#undef slots
#undef foreach
