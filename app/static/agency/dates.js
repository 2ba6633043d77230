/* The calendar of the agency screens' date fields (bootstrap-datepicker, shipped with FAB).
   Language, format and first weekday come from the field's data-date-* attributes. */
(function ($) {
  "use strict";
  if (!$ || !$.fn.datepicker) {
    return;
  }
  $.fn.datepicker.dates.de = {
    days: ["Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"],
    daysShort: ["So", "Mo", "Di", "Mi", "Do", "Fr", "Sa"],
    daysMin: ["So", "Mo", "Di", "Mi", "Do", "Fr", "Sa"],
    months: ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August",
      "September", "Oktober", "November", "Dezember"],
    monthsShort: ["Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez"],
    today: "Heute",
    monthsTitle: "Monate",
    clear: "Löschen",
    weekStart: 1,
    format: "dd.mm.yyyy"
  };
  $(function () {
    $(".promoplan-date input").datepicker({
      autoclose: true,
      todayHighlight: true,
      forceParse: false
    });
    $(".promoplan-date .input-group-addon").on("click", function () {
      $(this).siblings("input").datepicker("show");
    });
  });
}(window.jQuery));
