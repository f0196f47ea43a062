// The "change element" menu without the elements routing refuses on deploy
// (services/routing/engine/foreign.py): a service task (routing calls nothing outside), a complex
// gateway, an ad-hoc sub-process. Offered, they were chosen and then refused at 校验并部署.
const REFUSED = ["replace-with-service-task", "replace-with-complex-gateway", "replace-with-ad-hoc-subprocess",
  "replace-with-collapsed-ad-hoc-subprocess", "replace-with-expanded-ad-hoc-subprocess"];

export default function SupportedReplaceMenu(popupMenu) {
  popupMenu.registerProvider("bpmn-replace", 500, this);  // after bpmn-js's own entries: it removes from them
}
SupportedReplaceMenu.$inject = ["popupMenu"];

SupportedReplaceMenu.prototype.getPopupMenuEntries = function () {
  return (entries) => {
    const kept = { ...entries };
    REFUSED.forEach((id) => { delete kept[id]; });
    return kept;
  };
};
