/* The menu editor: categories, items and modifier groups over /api/v1/menu. Items are
   written with If-Match (their version): a 412 means someone else saved first, so the item is
   reloaded and the owner is told before saving again. */
(function () {
  "use strict";

  var C = window.ServioConsole;
  var MENU = "/api/v1/menu";
  var PAGE_LIMIT = 100;

  var app;
  var currency = "INR";
  var canWrite = false;
  var canStock = false;
  var state = { categories: [], items: [], groups: [], editing: null };

  /* Every page of a cursor-paginated list. */
  function listAll(path) {
    var out = [];
    function page(cursor) {
      var url = MENU + path + "?limit=" + PAGE_LIMIT + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "");
      return C.api("GET", url).then(function (result) {
        if (!result.ok) return Promise.reject(result.data);
        out = out.concat(result.data.items || []);
        return result.data.next_cursor ? page(result.data.next_cursor) : out;
      });
    }
    return page(null);
  }

  var el = C.el;

  function notice(message) {
    C.notice("menu-notice", message);
  }

  function categoryName(id) {
    var found = state.categories.filter(function (c) {
      return c.id === id;
    })[0];
    return found ? found.name : "";
  }

  function groupById(id) {
    return state.groups.filter(function (g) {
      return g.id === id;
    })[0];
  }

  /* ---- rendering ---- */

  function renderCategories() {
    var list = document.getElementById("category-list");
    list.textContent = "";
    if (!state.categories.length) list.appendChild(el("li", "muted", "No categories yet."));
    state.categories.forEach(function (category) {
      var count = state.items.filter(function (i) {
        return i.category_id === category.id;
      }).length;
      var li = el("li", "side-item");
      li.appendChild(el("span", "", category.name));
      li.appendChild(el("span", "count", String(count)));
      list.appendChild(li);
    });
    ["item-filter", "item-category"].forEach(function (id) {
      var select = document.getElementById(id);
      if (!select) return;
      var keep = select.value;
      while (select.options.length > 1) select.remove(1);
      state.categories.forEach(function (category) {
        select.add(new Option(category.name, category.id));
      });
      select.value = keep;
    });
  }

  function groupSummary(group) {
    var rule = group.required ? "required" : "optional";
    if (group.max_select > 1) rule += ", up to " + group.max_select;
    if (group.min_select > 0) rule += ", at least " + group.min_select;
    return rule;
  }

  function renderGroups() {
    var list = document.getElementById("group-list");
    list.textContent = "";
    if (!state.groups.length) list.appendChild(el("li", "muted", "No modifier groups yet."));
    state.groups.forEach(function (group) {
      var li = el("li", "side-item side-item-stack");
      var head = el("div", "side-item-head");
      head.appendChild(el("strong", "", group.name));
      head.appendChild(el("span", "muted small", groupSummary(group)));
      li.appendChild(head);
      var mods = (group.modifiers || []).map(function (m) {
        return m.name + (m.price_delta ? " +" + C.formatMoney(m.price_delta, currency) : "");
      });
      if (mods.length) li.appendChild(el("span", "small", mods.join(" · ")));
      list.appendChild(li);
    });
    var box = document.getElementById("item-groups");
    if (!box) return;
    box.textContent = "";
    if (!state.groups.length) box.appendChild(el("span", "muted", "No modifier groups yet."));
    state.groups.forEach(function (group) {
      var label = el("label", "check");
      var input = document.createElement("input");
      input.type = "checkbox";
      input.name = "group_ids";
      input.value = group.id;
      input.id = "item-group-" + group.id;
      label.appendChild(input);
      label.appendChild(el("span", "", group.name));
      box.appendChild(label);
    });
  }

  function dietMark(item) {
    var tags = item.dietary || [];
    var kind = tags.indexOf("non_veg") !== -1 ? "non-veg" : tags.indexOf("egg") !== -1 ? "egg"
      : tags.some(function (t) { return t === "veg" || t === "vegan" || t === "jain"; }) ? "veg" : "";
    if (!kind) return null;
    var mark = el("span", "diet-mark diet-" + kind);
    mark.setAttribute("role", "img");
    mark.setAttribute("aria-label", kind === "veg" ? "Vegetarian" : kind === "egg" ? "Contains egg" : "Non-vegetarian");
    mark.title = mark.getAttribute("aria-label");
    return mark;
  }

  function stockToggle(item) {
    var button = el("button", "switch");
    button.type = "button";
    button.setAttribute("role", "switch");
    button.setAttribute("aria-checked", item.is_available ? "true" : "false");
    button.setAttribute("aria-label", item.name + " available");
    button.dataset.stock = item.id;
    button.appendChild(el("span", "switch-track"));
    button.appendChild(el("span", "switch-text", item.is_available ? "In stock" : "Out of stock"));
    if (!canStock) button.disabled = true;
    return button;
  }

  function renderItems() {
    var body = document.getElementById("item-rows");
    var filter = document.getElementById("item-filter").value;
    body.textContent = "";
    var shown = state.items.filter(function (item) {
      return item.is_active !== false && (!filter || item.category_id === filter);
    });
    if (!shown.length) {
      var row = el("tr");
      var cell = el("td", "muted empty-row", filter ? "No items in this category." : "No items yet. Add your first one with “New item”.");
      cell.colSpan = 6;
      row.appendChild(cell);
      body.appendChild(row);
      return;
    }
    shown.forEach(function (item) {
      var row = el("tr");
      row.dataset.itemId = item.id;
      if (!item.is_available) row.className = "is-unavailable";

      var nameCell = el("td");
      var title = el("div", "item-name");
      var mark = dietMark(item);
      if (mark) title.appendChild(mark);
      title.appendChild(el("strong", "", item.name));
      if (item.kind === "combo") title.appendChild(el("span", "badge badge-info badge-plain", "Combo"));
      nameCell.appendChild(title);
      var meta = [categoryName(item.category_id) || "No category", "station: " + item.station];
      if ((item.allergens || []).length) meta.push("allergens: " + item.allergens.join(", "));
      nameCell.appendChild(el("span", "muted small", meta.join(" · ")));
      row.appendChild(nameCell);

      row.appendChild(el("td", "num", C.formatMoney(item.price, item.currency || currency)));
      row.appendChild(el("td", "", item.gst_rate + " %"));

      var groupsCell = el("td", "group-cell");
      (item.modifier_group_ids || []).forEach(function (id) {
        var group = groupById(id);
        if (group) groupsCell.appendChild(el("span", "badge badge-primary badge-plain", group.name));
      });
      if (!groupsCell.childNodes.length) groupsCell.appendChild(el("span", "muted", "—"));
      row.appendChild(groupsCell);

      var stockCell = el("td");
      stockCell.appendChild(stockToggle(item));
      row.appendChild(stockCell);

      var actions = el("td", "row-actions");
      if (canWrite) {
        var edit = el("button", "btn btn-secondary btn-sm", "Edit");
        edit.type = "button";
        edit.dataset.edit = item.id;
        edit.setAttribute("aria-label", "Edit " + item.name);
        actions.appendChild(edit);
      }
      row.appendChild(actions);
      body.appendChild(row);
    });
  }

  function renderAll() {
    renderCategories();
    renderGroups();
    renderItems();
  }

  function load() {
    return Promise.all([listAll("/categories"), listAll("/items"), listAll("/modifier-groups")])
      .then(function (lists) {
        state.categories = lists[0];
        state.items = lists[1];
        state.groups = lists[2];
        renderAll();
      })
      .catch(function (problem) {
        notice((problem && (problem.detail || problem.title)) || "The menu could not be loaded.");
      });
  }

  function replaceItem(item) {
    var found = false;
    state.items = state.items.map(function (existing) {
      if (existing.id === item.id) {
        found = true;
        return item;
      }
      return existing;
    });
    if (!found) state.items.push(item);
  }

  /* ---- stock toggle: one tap ---- */

  function toggleStock(button) {
    var id = button.dataset.stock;
    var item = state.items.filter(function (i) { return i.id === id; })[0];
    if (!item || button.getAttribute("aria-busy") === "true") return;
    var outOfStock = item.is_available; // available now → mark out of stock
    button.setAttribute("aria-busy", "true");
    C.api("POST", MENU + "/items/" + encodeURIComponent(id) + "/out_of_stock", { flag: outOfStock }).then(function (result) {
      button.removeAttribute("aria-busy");
      if (!result.ok) {
        notice((result.data && result.data.detail) || "The item could not be changed.");
        return;
      }
      replaceItem(Object.assign({}, item, result.data && result.data.id ? result.data : { is_available: !outOfStock }));
      renderItems();
      var again = document.querySelector('[data-stock="' + id + '"]');
      if (again) again.focus();
      window.Servio.toast(item.name + (outOfStock ? " is out of stock" : " is back in stock"));
    });
  }

  /* ---- categories ---- */

  function wireCategoryForm() {
    var form = document.getElementById("category-form");
    if (!form) return;
    var alertBox = document.getElementById("category-errors");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var name = form.elements.namedItem("name").value.trim();
      C.clearProblems(form, alertBox);
      C.busy(form);
      C.api("POST", MENU + "/categories", { name: name, position: state.categories.length }).then(function (result) {
        C.release(form);
        if (!result.ok) {
          C.showProblem(form, alertBox, result.data);
          return;
        }
        state.categories.push(result.data);
        form.reset();
        renderCategories();
        window.Servio.toast("Category “" + result.data.name + "” added");
        form.elements.namedItem("name").focus();
      });
    });
  }

  /* ---- item drawer ---- */

  function openDrawer(dialog) {
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
    var first = dialog.querySelector("input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }

  function closeDrawer(dialog) {
    if (typeof dialog.close === "function") dialog.close();
    else dialog.removeAttribute("open");
  }

  function setChecks(form, name, values) {
    var boxes = form.querySelectorAll('input[name="' + name + '"]');
    for (var i = 0; i < boxes.length; i++) boxes[i].checked = values.indexOf(boxes[i].value) !== -1;
  }

  function checked(form, name) {
    return Array.prototype.map.call(form.querySelectorAll('input[name="' + name + '"]:checked'), function (b) {
      return b.value;
    });
  }

  function fillItemForm(form, item) {
    form.reset();
    C.clearProblems(form, document.getElementById("item-errors"));
    document.getElementById("item-drawer-title").textContent = item ? "Edit " + item.name : "New item";
    var f = form.elements;
    f.namedItem("name").value = item ? item.name : "";
    f.namedItem("category_id").value = item ? item.category_id || "" : document.getElementById("item-filter").value;
    f.namedItem("price").value = item ? C.fromMinor(item.price, currency) : "";
    f.namedItem("gst_rate").value = item ? item.gst_rate : "5";
    f.namedItem("hsn").value = item ? item.hsn : "996331";
    f.namedItem("station").value = item ? item.station : "kitchen";
    f.namedItem("description").value = item ? item.description : "";
    f.namedItem("image_id").value = item && item.image_id ? item.image_id : "";
    setChecks(form, "dietary", item ? item.dietary : []);
    setChecks(form, "allergens", item ? item.allergens : []);
    setChecks(form, "group_ids", item ? item.modifier_group_ids || [] : []);
    var preview = document.getElementById("item-photo-preview");
    preview.hidden = true;
    preview.removeAttribute("src");
    if (item && item.image_id) showStoredPhoto(preview, item.image_id);
    updatePricePreview(form);
  }

  /* The item's current photo, from the media record's URL. */
  function showStoredPhoto(preview, mediaId) {
    C.api("GET", "/api/v1/media/" + encodeURIComponent(mediaId)).then(function (result) {
      if (!result.ok || !result.data.url) return;
      preview.src = result.data.url;
      preview.hidden = false;
    });
  }

  function updatePricePreview(form) {
    var minor = C.toMinor(form.elements.namedItem("price").value, currency);
    document.getElementById("item-price-preview").textContent = minor === null ? "—" : C.formatMoney(minor, currency);
  }

  function itemPayload(form) {
    var f = form.elements;
    var price = C.toMinor(f.namedItem("price").value, currency);
    if (price === null) {
      return Promise.reject({
        status: 422,
        errors: [{ loc: ["body", "price"], msg: "Enter a price like 250 or 250.50" }],
      });
    }
    var payload = {
      name: f.namedItem("name").value.trim(),
      category_id: f.namedItem("category_id").value || null,
      price: price,
      gst_rate: f.namedItem("gst_rate").value,
      hsn: f.namedItem("hsn").value.trim(),
      station: f.namedItem("station").value.trim().toLowerCase(),
      description: f.namedItem("description").value.trim(),
      dietary: checked(form, "dietary"),
      allergens: checked(form, "allergens"),
    };
    return uploadPhoto(form).then(function (imageId) {
      if (imageId) payload.image_id = imageId;
      return payload;
    });
  }

  function uploadPhoto(form) {
    var input = document.getElementById("item-photo");
    if (!input.files || !input.files.length) return Promise.resolve(form.elements.namedItem("image_id").value || null);
    var body = new FormData();
    body.append("file", input.files[0]);
    body.append("purpose", "menu_item");
    return C.api("POST", "/api/v1/media", body).then(function (result) {
      if (!result.ok) {
        var problem = Object.assign({}, result.data || {});
        problem.errors = [{ loc: ["image_id"], msg: problem.detail || "The photo could not be uploaded" }];
        return Promise.reject(problem);
      }
      form.elements.namedItem("image_id").value = result.data.id;
      input.value = "";
      C.refreshUsage();
      return result.data.id;
    });
  }

  function sameList(a, b) {
    return a.length === b.length && a.every(function (v, i) { return v === b[i]; });
  }

  /* Attach the chosen groups (PUT replaces the item's list) when they changed. */
  function saveGroups(item, groupIds) {
    if (sameList(item.modifier_group_ids || [], groupIds)) return Promise.resolve(item);
    return C.api("PUT", MENU + "/items/" + encodeURIComponent(item.id) + "/modifier-groups", { group_ids: groupIds })
      .then(function (result) {
        if (!result.ok) return Promise.reject(result.data);
        var updated = result.data && result.data.id ? result.data : Object.assign({}, item, { modifier_group_ids: groupIds });
        if (!updated.modifier_group_ids) updated.modifier_group_ids = groupIds;
        return updated;
      });
  }

  function reloadAfterConflict(form, id) {
    return C.api("GET", MENU + "/items/" + encodeURIComponent(id)).then(function (fresh) {
      if (fresh.ok) {
        replaceItem(fresh.data);
        state.editing = fresh.data;
        fillItemForm(form, fresh.data);
        renderItems();
      }
      C.showProblem(form, document.getElementById("item-errors"), {
        title: "Someone else changed this item",
        detail: "We loaded the latest version. Check it, make your change again and save.",
      });
    });
  }

  function wireItemDrawer() {
    var dialog = document.getElementById("item-drawer");
    if (!dialog) return;
    var form = document.getElementById("item-form");
    var alertBox = document.getElementById("item-errors");

    document.querySelector("[data-open-item]").addEventListener("click", function () {
      state.editing = null;
      fillItemForm(form, null);
      openDrawer(dialog);
    });
    form.elements.namedItem("price").addEventListener("input", function () {
      updatePricePreview(form);
    });
    document.getElementById("item-photo").addEventListener("change", function (event) {
      var file = event.target.files && event.target.files[0];
      var preview = document.getElementById("item-photo-preview");
      if (!file) return;
      var reader = new FileReader();
      reader.onload = function () {
        preview.src = reader.result; // data: URL (the CSP allows data: images)
        preview.hidden = false;
      };
      reader.readAsDataURL(file);
    });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.getAttribute("aria-busy") === "true") return;
      C.clearProblems(form, alertBox);
      C.busy(form);
      var editing = state.editing;
      var groupIds = checked(form, "group_ids");
      itemPayload(form)
        .then(function (payload) {
          if (editing) {
            return C.api("PATCH", MENU + "/items/" + encodeURIComponent(editing.id), payload, {
              "If-Match": '"' + editing.version + '"',
            });
          }
          return C.api("POST", MENU + "/items", payload);
        })
        .then(function (result) {
          if (result.status === 412 && editing) {
            C.release(form);
            return reloadAfterConflict(form, editing.id).then(function () {
              return Promise.reject(null);
            });
          }
          if (!result.ok) return Promise.reject(result.data);
          return saveGroups(result.data, groupIds);
        })
        .then(function (item) {
          C.release(form);
          replaceItem(item);
          renderAll();
          closeDrawer(dialog);
          C.refreshUsage();
          window.Servio.toast((editing ? "Saved " : "Added ") + item.name);
          var edit = document.querySelector('[data-edit="' + item.id + '"]');
          if (edit) edit.focus();
        })
        .catch(function (problem) {
          C.release(form);
          if (problem) C.showProblem(form, alertBox, problem);
        });
    });
  }

  /* ---- modifier group drawer ---- */

  function addModifierRow(name, price) {
    var body = document.getElementById("modifier-rows");
    var index = body.querySelectorAll("tr").length;
    var row = el("tr");
    row.dataset.modifierRow = String(index);
    var nameCell = el("td");
    var nameInput = document.createElement("input");
    nameInput.className = "input";
    nameInput.id = "modifier-" + index + "-name";
    nameInput.setAttribute("aria-label", "Modifier " + (index + 1) + " name");
    nameInput.setAttribute("data-field", "modifiers." + index + ".name");
    nameInput.maxLength = 160;
    nameInput.value = name || "";
    nameCell.appendChild(nameInput);
    var priceCell = el("td");
    var priceInput = document.createElement("input");
    priceInput.className = "input";
    priceInput.id = "modifier-" + index + "-price";
    priceInput.inputMode = "decimal";
    priceInput.placeholder = "0.00";
    priceInput.setAttribute("aria-label", "Modifier " + (index + 1) + " extra price");
    priceInput.setAttribute("data-field", "modifiers." + index + ".price_delta");
    priceInput.value = price || "";
    priceCell.appendChild(priceInput);
    var removeCell = el("td");
    var remove = el("button", "btn btn-link", "Remove");
    remove.type = "button";
    remove.dataset.removeModifier = "";
    remove.setAttribute("aria-label", "Remove modifier " + (index + 1));
    removeCell.appendChild(remove);
    row.appendChild(nameCell);
    row.appendChild(priceCell);
    row.appendChild(removeCell);
    body.appendChild(row);
    return nameInput;
  }

  function groupPayload(form) {
    var f = form.elements;
    var modifiers = [];
    var errors = [];
    Array.prototype.forEach.call(document.querySelectorAll("#modifier-rows tr"), function (row, index) {
      var name = row.querySelector('[id$="-name"]').value.trim();
      var priceText = row.querySelector('[id$="-price"]').value.trim();
      if (!name && !priceText) return;
      var price = priceText ? C.toMinor(priceText, currency) : 0;
      if (price === null) errors.push({ loc: ["body", "modifiers", String(index), "price_delta"], msg: "Enter an amount like 40 or 40.50" });
      modifiers.push({ name: name, price_delta: price || 0, position: index });
    });
    if (errors.length) return Promise.reject({ status: 422, errors: errors });
    return Promise.resolve({
      name: f.namedItem("name").value.trim(),
      min_select: parseInt(f.namedItem("min_select").value, 10) || 0,
      max_select: parseInt(f.namedItem("max_select").value, 10) || 1,
      required: document.getElementById("group-required").checked,
      position: state.groups.length,
      modifiers: modifiers,
    });
  }

  function wireGroupDrawer() {
    var dialog = document.getElementById("group-drawer");
    if (!dialog) return;
    var form = document.getElementById("group-form");
    var alertBox = document.getElementById("group-errors");
    document.querySelector("[data-open-group]").addEventListener("click", function () {
      form.reset();
      C.clearProblems(form, alertBox);
      document.getElementById("modifier-rows").textContent = "";
      addModifierRow();
      addModifierRow();
      openDrawer(dialog);
    });
    document.getElementById("add-modifier").addEventListener("click", function () {
      addModifierRow().focus();
    });
    document.getElementById("modifier-rows").addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-modifier]");
      if (button) button.closest("tr").remove();
    });
    // "Required" means at least one choice.
    document.getElementById("group-required").addEventListener("change", function (event) {
      var min = form.elements.namedItem("min_select");
      if (event.target.checked && (parseInt(min.value, 10) || 0) < 1) min.value = "1";
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (form.getAttribute("aria-busy") === "true") return;
      C.clearProblems(form, alertBox);
      C.busy(form);
      groupPayload(form)
        .then(function (payload) {
          return C.api("POST", MENU + "/modifier-groups", payload);
        })
        .then(function (result) {
          if (!result.ok) return Promise.reject(result.data);
          C.release(form);
          state.groups.push(result.data);
          renderGroups();
          renderItems();
          closeDrawer(dialog);
          window.Servio.toast("Modifier group “" + result.data.name + "” created. Attach it to items with Edit.");
        })
        .catch(function (problem) {
          C.release(form);
          C.showProblem(form, alertBox, problem);
        });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    app = document.getElementById("menu-app");
    if (!app) return;
    currency = app.dataset.currency || "INR";
    canWrite = app.dataset.canWrite === "true";
    canStock = app.dataset.canStock === "true";

    document.getElementById("item-filter").addEventListener("change", renderItems);
    document.getElementById("item-rows").addEventListener("click", function (event) {
      var stock = event.target.closest("[data-stock]");
      if (stock) {
        toggleStock(stock);
        return;
      }
      var edit = event.target.closest("[data-edit]");
      if (edit) {
        var item = state.items.filter(function (i) { return i.id === edit.dataset.edit; })[0];
        state.editing = item;
        fillItemForm(document.getElementById("item-form"), item);
        openDrawer(document.getElementById("item-drawer"));
      }
    });
    Array.prototype.forEach.call(document.querySelectorAll("dialog [data-close]"), function (button) {
      button.addEventListener("click", function () {
        closeDrawer(button.closest("dialog"));
      });
    });
    wireCategoryForm();
    wireItemDrawer();
    wireGroupDrawer();
    load();
  });
})();
