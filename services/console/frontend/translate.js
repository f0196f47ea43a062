// bpmn-js, its properties panel and bpmnlint pass every text they show through `translate`: this one
// answers in the page's language from the dictionaries beside it (zh.js), the English text otherwise.
import ZH from "./zh.js";

export function translator(language) {
  const words = language === "zh-CN" ? ZH : {};
  return function translate(template, replacements) {
    const text = words[template] || template;
    return text.replace(/{([^}]+)}/g, (whole, key) => (replacements && key in replacements ? replacements[key] : whole));
  };
}

export function translateModule(language) {
  return { translate: ["value", translator(language)] };
}
