#pragma once
// Puts the layer-ratio panel into a MainWindow: its dock (tabbed with Compare), its View menu
// entry, and its connections to the parameters, the controller and the worker. Kept out of
// main_window.cpp, which only calls this.

class QMenu;

namespace kvs::ui {

class LayerRatioPanel;
class MainWindow;

LayerRatioPanel* installLayerRatioPanel(MainWindow* window, QMenu* viewMenu);

}  // namespace kvs::ui
