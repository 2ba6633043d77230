// The question form shows only the settings of the chosen kind of question (numbers, counts,
// choices); a setting that holds a value or a message stays visible, so nothing is hidden that
// would be saved or refused.
(function () {
  "use strict";
  var form = document.getElementById("question-form");
  var kind = document.getElementById("kind");
  if (!form || !kind) {
    return;
  }
  var sets = form.querySelectorAll("fieldset[data-kinds]");

  function filled(set) {
    if (set.querySelector(".has-error")) {
      return true;
    }
    var fields = set.querySelectorAll("input, textarea");
    for (var i = 0; i < fields.length; i++) {
      if (fields[i].value.trim() !== "") {
        return true;
      }
    }
    return false;
  }

  function update() {
    for (var i = 0; i < sets.length; i++) {
      var kinds = sets[i].getAttribute("data-kinds").split(" ");
      sets[i].hidden = kinds.indexOf(kind.value) < 0 && !filled(sets[i]);
    }
  }

  kind.addEventListener("change", update);
  update();
})();
