// The Overview with an exact budget: the eps KVMerger searched for each KV head of the selected
// layer is listed under the curves (the Parameters panel's eps has no effect then), and the list
// follows the layer selected; with an approximate budget there is no list.

#include <QCheckBox>
#include <QJsonArray>
#include <QLabel>
#include <QTemporaryDir>
#include <QTest>

#include "gui_test_util.h"
#include "main_window.h"
#include "overview_panel.h"
#include "parameters_panel.h"

using namespace kvs::ui;
using namespace kvs::ui::test;

class TestOverview : public QObject {
  Q_OBJECT

 private Q_SLOTS:
  void initTestCase() {
    const QString problem =
        isolateSettings(settingsDir_, QStringLiteral("KV Studio overview test"));
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
  }
  void exactBudgetListsTheEpsSearchedPerHead();

 private:
  QTemporaryDir settingsDir_;
};

void TestOverview::exactBudgetListsTheEpsSearchedPerHead() {
  MainWindow w(kModel);
  w.show();
  w.parameters()->setParams(approximateBudget());
  QVERIFY(runPrompt(w, 120));
  auto* found = w.findChild<QLabel*>("epsFound");
  QVERIFY(found);
  QVERIFY(!found->isVisible());  // approximate budget: the eps given is the one used
  child<QCheckBox>(*w.parameters(), "exactBudget")->setChecked(true);  // the default
  QTRY_VERIFY_WITH_TIMEOUT(found->isVisible(), kTimeoutMs);
  w.heatmap()->select(2, 1);
  QTRY_VERIFY_WITH_TIMEOUT(found->text().contains("layer 2:"), kTimeoutMs);
  const QJsonArray searched = w.heatmap()->decisionsJson()["eps_used"].toArray()[2].toArray();
  QStringList expected;
  for (const auto& eps : searched) expected << QString::number(eps.toDouble(), 'f', 3);
  QCOMPARE(found->text(), "eps searched per head, layer 2: " + expected.join(' '));
  child<QCheckBox>(*w.parameters(), "exactBudget")->setChecked(false);
  QTRY_VERIFY_WITH_TIMEOUT(!found->isVisible(), kTimeoutMs);
}

QTEST_MAIN(TestOverview)
#include "test_overview.moc"
