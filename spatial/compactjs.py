"""JavaScript shared by the compact map layers (spatial.periodlayer, spatial.pointlayer).

Pieces of their Jinja templates, at the templates' indentation: inflating a base64 zlib array
(``DecompressionStream("deflate")``), waiting for a layer's arrays (``map._lantianPending``; a
note on the map, once, when the browser cannot inflate), and keeping the layers that share the
map's canvas in their rank order whenever one is (re)added. A template uses them as
``Template(HEAD + INFLATE_JS + … + DECODE_JS + RANK_JS + TAIL)``; the variables they expect in
scope: ``map``, ``group``, ``arrays`` (the base64 strings), ``build`` (called with the buffers)
and the element's ``this.error_json`` and ``this.rank``.
"""

INFLATE_JS = """            var inflate = function (b64) {
                var s = atob(b64), u = new Uint8Array(s.length);
                for (var i = 0; i < s.length; i++) { u[i] = s.charCodeAt(i); }
                var stream = new Blob([u]).stream().pipeThrough(
                    new DecompressionStream("deflate"));
                return new Response(stream).arrayBuffer();
            };
"""

DECODE_JS = """            var ready = (typeof DecompressionStream === "undefined"
                ? Promise.reject(new Error("no DecompressionStream"))
                : Promise.all(arrays.map(inflate))).then(build).catch(function (e) {
                    if (map._lantianDecodeError) { return; }
                    map._lantianDecodeError = true;
                    var note = L.control({position: "topleft"});
                    note.onAdd = function () {
                        var div = L.DomUtil.create("div", "lt-legend lt-decode-error");
                        div.innerHTML = {{ this.error_json }};
                        return div;
                    };
                    note.addTo(map);
                    if (window.console) { console.error(e); }
                });
            (map._lantianPending || (map._lantianPending = [])).push(ready);
"""

RANK_JS = """            var reg = map._lantianLayers || (map._lantianLayers = []);
            reg.push({layer: group, rank: {{ this.rank }}});
            group.on("add", function () {
                reg.slice().sort(function (a, b) { return a.rank - b.rank; }).forEach(
                    function (e) { if (map.hasLayer(e.layer)) { e.layer.bringToFront(); } });
            });
            group.addTo({{ this._parent.get_name() }});
"""
