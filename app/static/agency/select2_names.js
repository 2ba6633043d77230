/* Select2 draws its own combobox next to the hidden <select>; give it the name of the
   select's <label> so that screen readers announce it (runs after ab.js has drawn them). */
(function ($) {
  "use strict";
  if (!$) {
    return;
  }
  $(function () {
    $("select").each(function () {
      var id = this.id;
      var label = id ? $("label[for='" + id + "']").first().text().trim() : "";
      var drawn = $(this).next(".select2-container");
      if (!label || !drawn.length) {
        return;
      }
      drawn.find(".select2-selection").attr("aria-label", label);
      drawn.find(".select2-selection__rendered").attr("aria-label", label);
    });
  });
})(window.jQuery);
