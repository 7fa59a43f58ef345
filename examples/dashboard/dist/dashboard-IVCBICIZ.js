"use strict";(()=>{var be=`# Everything the dashboard shows, in one request. A section the member's
# role may not read comes back null with a FORBIDDEN error at its path; the
# dashboard says so in that section and shows the others.
query Dashboard {
  me {
    id
    name
    domain
    status
    plan {
      id
      name
      monthlyPriceCents
      currency
    }
    limits {
      users
      policies
      interactionsPerMonth
      apiRequestsPerMinute
    }
    usage {
      activeUsers
      policies
      interactionsThisMonth
    }
    invoices(first: 12) {
      totalCount
      nodes {
        id
        number
        status
        date
        dueDate
        amount {
          formatted
        }
        pdfUrl
      }
    }
    apiKeys(first: 50) {
      totalCount
      nodes {
        id
        name
        prefix
        status
        createdAt
        lastUsedAt
        expiresAt
      }
    }
    members(first: 50) {
      totalCount
      nodes {
        id
        email
        name
        role
        status
      }
    }
    events(first: 10) {
      nodes {
        id
        type
        wireType
        at
        actor
        action
      }
    }
  }
}
`;var we=`# Ends the session and clears its cookie.
mutation SignOut {
  logout {
    session {
      id
    }
  }
}
`;var Ee=`# The signed-in member's tenant's events as they commit (over the
# graphql-transport-ws websocket of /graphql). Same fields as the
# Dashboard query's recent events.
subscription TenantEvents {
  tenantEvents {
    id
    type
    wireType
    at
    actor
    action
  }
}
`;var xe=`# Who the browser is signed in as: ANONYMOUS until the person signs in at
# /signin (the session cookie then authenticates every request).
query Viewer {
  viewer {
    kind
    permissions
    member {
      email
      name
      role
    }
  }
}
`;var We="/graphql";function F(e,t){return{name:e,document:t}}var re=F("Viewer",xe),ve=F("Dashboard",be),Te=F("SignOut",we),oe=F("TenantEvents",Ee),C=class extends Error{};async function _(e,t){let n=await fetch(We,{method:"POST",credentials:"same-origin",headers:{"Content-Type":"application/json",Accept:"application/graphql-response+json, application/json","X-Requested-With":"dashboard"},body:JSON.stringify({query:e.document,operationName:e.name,variables:t})});if(n.status===401)throw new C("Your session has ended: sign in again.");let r=await n.json().catch(()=>null);if(!ze(r))throw new Error(`The API answered HTTP ${n.status} without a GraphQL response.`);let d=r.errors??[];if(!("data"in r)||r.data==null){if(d.length===0)throw new Error(`The API answered HTTP ${n.status} with no data.`);return{data:null,errors:d}}return{data:r.data,errors:d}}function ze(e){return typeof e=="object"&&e!==null&&("data"in e||"errors"in e)}function P(e,...t){return e.find(n=>n.path!==void 0&&t.every((r,d)=>n.path?.[d]===r))}function w(e){return e===null?"null":Array.isArray(e)?"array":typeof e}function $(e){return w(e)==="object"}function Ue(e){return Array.isArray(e)&&e.length>0&&e.every(t=>"message"in t)}function ie(e,t){return e.length<124?e:t}var Se="graphql-transport-ws";var E=(e=>(e[e.InternalServerError=4500]="InternalServerError",e[e.InternalClientError=4005]="InternalClientError",e[e.BadRequest=4400]="BadRequest",e[e.BadResponse=4004]="BadResponse",e[e.Unauthorized=4401]="Unauthorized",e[e.Forbidden=4403]="Forbidden",e[e.SubprotocolNotAcceptable=4406]="SubprotocolNotAcceptable",e[e.ConnectionInitialisationTimeout=4408]="ConnectionInitialisationTimeout",e[e.ConnectionAcknowledgementTimeout=4504]="ConnectionAcknowledgementTimeout",e[e.SubscriberAlreadyExists=4409]="SubscriberAlreadyExists",e[e.TooManyInitialisationRequests=4429]="TooManyInitialisationRequests",e))(E||{}),x=(e=>(e.ConnectionInit="connection_init",e.ConnectionAck="connection_ack",e.Ping="ping",e.Pong="pong",e.Subscribe="subscribe",e.Next="next",e.Error="error",e.Complete="complete",e))(x||{});function ke(e){if(!$(e))throw new Error(`Message is expected to be an object, but got ${w(e)}`);if(!e.type)throw new Error("Message is missing the 'type' property");if(typeof e.type!="string")throw new Error(`Message is expects the 'type' property to be a string, but got ${w(e.type)}`);switch(e.type){case"connection_init":case"connection_ack":case"ping":case"pong":{if(e.payload!=null&&!$(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an object or nullish or missing, but got "${e.payload}"`);break}case"subscribe":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${w(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);if(!$(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an object, but got ${w(e.payload)}`);if(typeof e.payload.query!="string")throw new Error(`"${e.type}" message payload expects the 'query' property to be a string, but got ${w(e.payload.query)}`);if(e.payload.variables!=null&&!$(e.payload.variables))throw new Error(`"${e.type}" message payload expects the 'variables' property to be a an object or nullish or missing, but got ${w(e.payload.variables)}`);if(e.payload.operationName!=null&&w(e.payload.operationName)!=="string")throw new Error(`"${e.type}" message payload expects the 'operationName' property to be a string or nullish or missing, but got ${w(e.payload.operationName)}`);if(e.payload.extensions!=null&&!$(e.payload.extensions))throw new Error(`"${e.type}" message payload expects the 'extensions' property to be a an object or nullish or missing, but got ${w(e.payload.extensions)}`);break}case"next":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${w(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);if(!$(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an object, but got ${w(e.payload)}`);break}case"error":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${w(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);if(!Ue(e.payload))throw new Error(`"${e.type}" message expects the 'payload' property to be an array of GraphQL errors, but got ${JSON.stringify(e.payload)}`);break}case"complete":{if(typeof e.id!="string")throw new Error(`"${e.type}" message expects the 'id' property to be a string, but got ${w(e.id)}`);if(!e.id)throw new Error(`"${e.type}" message requires a non-empty 'id' property`);break}default:throw new Error(`Invalid message 'type' property "${e.type}"`)}return e}function Ae(e,t){return ke(typeof e=="string"?JSON.parse(e,t):e)}function q(e,t){return ke(e),JSON.stringify(e,t)}function Oe(e){let{url:t,connectionParams:n,lazy:r=!0,onNonLazyError:d=console.error,lazyCloseTimeout:a=0,keepAlive:v=0,disablePong:X,connectionAckWaitTimeout:S=0,retryAttempts:T=5,retryWait:A=async function(p){let o=Math.pow(2,p);await new Promise(l=>setTimeout(l,o*1e3+Math.floor(Math.random()*2700+300)))},shouldRetry:Z=ae,on:y,webSocketImpl:ee,generateID:Ne=function(){return"xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g,p=>{let o=Math.random()*16|0;return(p=="x"?o:o&3|8).toString(16)})},jsonMessageReplacer:z,jsonMessageReviver:Ce}=e,R;if(ee){if(!Fe(ee))throw new Error("Invalid WebSocket implementation provided");R=ee}else typeof WebSocket<"u"?R=WebSocket:typeof global<"u"?R=global.WebSocket||global.MozWebSocket:typeof window<"u"&&(R=window.WebSocket||window.MozWebSocket);if(!R)throw new Error("WebSocket implementation missing; on Node you can `import WebSocket from 'ws';` and pass `webSocketImpl: WebSocket` to `createClient`");let L=R,h=(()=>{let i=(()=>{let o={};return{on(l,m){return o[l]=m,()=>{delete o[l]}},emit(l){"id"in l&&o[l.id]?.(l)}}})(),p={connecting:y?.connecting?[y.connecting]:[],opened:y?.opened?[y.opened]:[],connected:y?.connected?[y.connected]:[],ping:y?.ping?[y.ping]:[],pong:y?.pong?[y.pong]:[],message:y?.message?[i.emit,y.message]:[i.emit],closed:y?.closed?[y.closed]:[],error:y?.error?[y.error]:[]};return{onMessage:i.on,on(o,l){let m=p[o];return m.push(l),()=>{let f=m.indexOf(l);f>-1&&m.splice(f,1)}},emit(o,...l){for(let m of[...p[o]])m(...l)}}})();function te(i){let p=[h.on("error",o=>{p.forEach(l=>l()),i(o)}),h.on("closed",o=>{p.forEach(l=>l()),i(o)})];return()=>p.forEach(o=>o())}let D,O=0,ne,G=!1,U=0,me=!1;async function fe(){clearTimeout(ne);let[i,p]=await(D??(D=new Promise((m,f)=>(async()=>{if(G){if(await A(U),!O)return D=void 0,f({code:1e3,reason:"All Subscriptions Gone"});U++}h.emit("connecting",G);let s=new L(typeof t=="function"?await t():t,Se),k,M;function j(){isFinite(v)&&v>0&&(clearTimeout(M),M=setTimeout(()=>{s.readyState===L.OPEN&&(s.send(q({type:x.Ping})),h.emit("ping",!1,void 0))},v))}te(b=>{D=void 0,clearTimeout(k),clearTimeout(M),f(b),b instanceof H&&(s.close(4499,"Terminated"),s.onerror=null,s.onclose=null)}),s.onerror=b=>h.emit("error",b),s.onclose=b=>h.emit("closed",b),s.onopen=async()=>{try{h.emit("opened",s);let b=typeof n=="function"?await n():n;if(s.readyState!==L.OPEN)return;s.send(q(b?{type:x.ConnectionInit,payload:b}:{type:x.ConnectionInit},z)),isFinite(S)&&S>0&&(k=setTimeout(()=>{s.close(E.ConnectionAcknowledgementTimeout,"Connection acknowledgement timeout")},S)),j()}catch(b){h.emit("error",b),s.close(E.InternalClientError,ie(b instanceof Error?b.message:String(b),"Internal client error"))}};let N=!1;s.onmessage=({data:b})=>{try{let g=Ae(b,Ce);if(h.emit("message",g),g.type==="ping"||g.type==="pong"){h.emit(g.type,!0,g.payload),g.type==="pong"?j():X||(s.send(q(g.payload?{type:x.Pong,payload:g.payload}:{type:x.Pong},z)),h.emit("pong",!1,g.payload));return}if(N)return;if(g.type!==x.ConnectionAck)throw new Error(`First message cannot be of type ${g.type}`);clearTimeout(k),N=!0,h.emit("connected",s,g.payload,G),G=!1,U=0;let he=new Promise((rt,qe)=>te(qe));he.catch(()=>{}),m([s,he])}catch(g){s.onmessage=null,h.emit("error",g),s.close(E.BadResponse,ie(g instanceof Error?g.message:String(g),"Bad response"))}}})())));i.readyState===L.CLOSING&&await p;let o=()=>{},l=new Promise(m=>o=m);return[i,o,new Promise((m,f)=>{let s=te(f);i.readyState!==L.OPEN&&p.catch(f),l.then(()=>{if(s(),!O){let k=()=>i.close(1e3,"Normal Closure");isFinite(a)&&a>0?(clearTimeout(ne),ne=setTimeout(()=>{!O&&i.readyState===L.OPEN&&k()},a)):k()}m()})})]}function ge(i){if(ae(i)&&(je(i.code)||[E.InternalServerError,E.InternalClientError,E.BadRequest,E.BadResponse,E.Unauthorized,E.SubprotocolNotAcceptable,E.SubscriberAlreadyExists,E.TooManyInitialisationRequests].includes(i.code)))throw i;if(me)return!1;if(ae(i)&&i.code===1e3)return O>0;if(!T||U>=T||!Z(i))throw i;return G=!0}r||(async()=>{for(O++;;)try{let[,,i]=await fe();await i}catch(i){try{if(!ge(i))return}catch(p){return d?.(p)}}})();function ye(i,p){let o=Ne(i),l=!1,m=!1,f=()=>{O--,l=!0};return(async()=>{for(O++;;)try{let[s,k,M]=await fe();if(l)return M.catch(()=>{}),k();let j=h.onMessage(o,N=>{switch(N.type){case x.Next:{p.next(N.payload);return}case x.Error:{m=!0,l=!0,p.error(N.payload),f();return}case x.Complete:{l=!0,f();return}}});s.send(q({id:o,type:x.Subscribe,payload:i},z)),f=()=>{!l&&s.readyState===L.OPEN&&s.send(q({id:o,type:x.Complete},z)),O--,l=!0,k()},await M.finally(j);return}catch(s){if(!ge(s))return}})().then(()=>{m||p.complete()}).catch(s=>{p.error(s)}),()=>{l||f()}}return{on:h.on,subscribe:ye,iterate(i){let p=[],o={done:!1,error:null,resolve:()=>{}},l=ye(i,{next(f){p.push(f),o.resolve()},error(f){o.done=!0,o.error=f,o.resolve()},complete(){o.done=!0,o.resolve()}}),m=(async function*(){for(;;){for(p.length||await new Promise(s=>o.resolve=s);p.length;)yield p.shift();if(o.error)throw o.error;if(o.done)return}})();return m.throw=async f=>(o.done||(o.done=!0,o.error=f,o.resolve()),{done:!0,value:void 0}),m.return=async()=>(l(),{done:!0,value:void 0}),m},async dispose(){if(me=!0,D){let[i]=await D;i.close(1e3,"Normal Closure")}},terminate(){D&&h.emit("closed",new H)}}}var H=class extends Error{name="TerminatedCloseEvent";message="4499: Terminated";code=4499;reason="Terminated";wasClean=!1};function ae(e){return $(e)&&"code"in e&&"reason"in e}function je(e){return[1e3,1001,1006,1005,1012,1013,1014].includes(e)?!1:e>=1e3&&e<=1999}function Fe(e){return typeof e=="function"&&"constructor"in e&&"CLOSED"in e&&"CLOSING"in e&&"CONNECTING"in e&&"OPEN"in e}var Pe=4403;function $e(e,t){let n=new URL("/graphql",location.href);n.protocol=n.protocol==="https:"?"wss:":"ws:";let r=Oe({url:n.href,lazy:!1,retryAttempts:1/0,shouldRetry:a=>!(a instanceof CloseEvent&&a.code===Pe),keepAlive:3e4,on:{connecting:()=>t("connecting"),connected:()=>t("connected")}}),d=r.subscribe({query:oe.document,operationName:oe.name},{next:a=>{a.data&&e(a.data.tenantEvents);let v=a.errors?.[0];v&&t("ended",v.message)},error:a=>{a instanceof CloseEvent?t("ended",a.reason||`closed (${a.code})`,a.code===Pe):Array.isArray(a)?t("ended",String(a[0]?.message??"the subscription was refused")):t("ended",a instanceof Error?a.message:"the subscription failed")},complete:()=>t("ended","the server ended the subscription")});return()=>{d(),r.dispose()}}var c=e=>{let t=document.getElementById(e);if(!t)throw new Error(`dashboard: #${e} is missing from index.html`);return t};function u(e,t={},...n){let r=document.createElement(e);for(let[d,a]of Object.entries(t))r.setAttribute(d,a);return r.append(...n),r}var He=new Intl.DateTimeFormat(void 0,{dateStyle:"medium",timeStyle:"short"}),B=e=>e?He.format(new Date(e)):"—",I=new Intl.NumberFormat,le=e=>u("span",{class:`status ${e}`},e);function K(e){document.body.dataset.state=e}function Ie(e){let t=c("message");t.textContent=e,t.hidden=e===""}function V(e,t,n,r){let d=c(e),a=d.querySelector(".error"),v=d.querySelector(".body");if(!(!a||!v)){if(t===null){a.textContent=n?n.message:"Not available.",a.dataset.code=n?.extensions?.code??"",a.hidden=!1,v.hidden=!0;return}a.hidden=!0,v.hidden=!1,r(t)}}function Be(e,t){V("plan",e.plan,P(t,"me","plan"),n=>{c("plan-name").textContent=n.name,c("plan-name").dataset.planId=n.id;let r=new Intl.NumberFormat(void 0,{style:"currency",currency:n.currency}).format(n.monthlyPriceCents/100);c("plan-price").textContent=`${r} a month`,c("plan-rate").textContent=e.limits?`${I.format(e.limits.apiRequestsPerMinute)} API requests a minute`:""})}function Ke(e,t){let n=e.usage&&e.limits?{usage:e.usage,limits:e.limits}:null;V("usage",n,P(t,"me","usage")??P(t,"me","limits"),({usage:r,limits:d})=>{let a=[["activeUsers","Active users",r.activeUsers,d.users],["policies","Policies",r.policies,d.policies],["interactions","Interactions",r.interactionsThisMonth,d.interactionsPerMonth]];c("meters").replaceChildren(...a.map(([v,X,S,T])=>{let A=u("meter",{min:"0",value:String(S)});T!==null?(A.max=Math.max(T,1),A.low=T*.8,A.high=T*.95,A.optimum=0):A.max=Math.max(S,1);let Z=T===null?`${I.format(S)} (unlimited)`:`${I.format(S)} / ${I.format(T)}`;return u("div",{class:"meter","data-usage":v,"data-used":String(S),"data-limit":T===null?"":String(T)},u("span",{},X),A,u("span",{class:"figure"},Z))}))})}function Ye(e,t){V("invoices",e.invoices,P(t,"me","invoices"),n=>{c("invoices-count").textContent=`(${I.format(n.totalCount)})`,c("invoices-count").dataset.total=String(n.totalCount),c("invoice-rows").replaceChildren(...n.nodes.map(r=>u("tr",{"data-invoice-id":r.id},u("td",{},r.number),u("td",{},r.date),u("td",{},r.dueDate),u("td",{},le(r.status)),u("td",{class:"num"},r.amount.formatted),u("td",{},u("a",{href:r.pdfUrl,target:"_blank",rel:"noopener","data-pdf":""},"PDF"))))),ue("invoices",n.nodes.length===0)})}function Je(e,t){V("api-keys",e.apiKeys,P(t,"me","apiKeys"),n=>{c("api-keys-count").textContent=`(${I.format(n.totalCount)} active)`,c("api-keys-count").dataset.total=String(n.totalCount),c("api-key-rows").replaceChildren(...n.nodes.map(r=>u("tr",{"data-api-key-id":r.id},u("td",{"data-name":""},r.name),u("td",{},u("code",{},r.prefix)),u("td",{},le(r.status)),u("td",{},B(r.createdAt)),u("td",{},B(r.lastUsedAt)),u("td",{},B(r.expiresAt))))),ue("api-keys",n.nodes.length===0)})}function Xe(e,t){V("members",e.members,P(t,"me","members"),n=>{c("members-count").textContent=`(${I.format(n.totalCount)})`,c("members-count").dataset.total=String(n.totalCount),c("member-rows").replaceChildren(...n.nodes.map(r=>u("tr",{"data-member-id":r.id},u("td",{"data-email":""},r.email),u("td",{},r.name),u("td",{},r.role),u("td",{},le(r.status)))))})}function ue(e,t){let n=c(e).querySelector(".empty");n&&(n.hidden=!t)}var Q=new Map,Le=50;function Re(e,t){for(let r of e){let d=Q.get(r.id);Q.set(r.id,{event:r,live:t||(d?.live??!1)})}let n=[...Q.keys()].sort().reverse();for(let r of n.slice(Le))Q.delete(r);c("event-rows").replaceChildren(...n.slice(0,Le).map(r=>{let{event:d,live:a}=Q.get(r);return u("li",{"data-event-id":d.id,"data-wire-type":d.wireType,"data-live":String(a)},u("time",{datetime:d.at},B(d.at)),u("code",{},d.wireType),u("span",{class:"actor"},`${d.action||"—"} by ${d.actor}`))})),ue("events",Q.size===0)}function Ze(e,t){V("events",e.events,P(t,"me","events"),n=>Re(n.nodes,!1))}function De(e,t){let n=c("live");n.dataset.live=e,n.textContent=e==="connected"?"live":e==="connecting"?"connecting…":"not live",n.title=t??"",e==="connected"&&pe()}var W=null;function et(e){let t=e.member;c("who").textContent=t?`${t.email} · ${t.role}`:e.kind,c("sign-out").hidden=!t}function Y(e){W?.(),W=null,c("dashboard").hidden=!0,c("sign-out").hidden=!0,c("who").textContent="";let t=c("sign-in");t.href=`/signin?return_to=${encodeURIComponent(location.pathname)}`,c("signed-out").hidden=!1,Ie(e??""),K("signed-out")}async function Me(){let{data:e,errors:t}=await _(ve,{});if(!e)throw new Error(t[0]?.message??"The API returned nothing.");let n=e.me;c("tenant-name").textContent=n.name,c("tenant-domain").textContent=`${n.domain} · ${n.status}`,document.title=`${n.name} · Dashboard`,Be(n,t),Ke(n,t),Ye(n,t),Je(n,t),Xe(n,t),Ze(n,t)}var se,ce=!1,de=!1;function pe(){if(ce){de=!0;return}se===void 0&&(se=window.setTimeout(async()=>{se=void 0,ce=!0;try{await Me()}catch(e){J(e)}finally{ce=!1,de&&(de=!1,pe())}},150))}function J(e){if(e instanceof C){Y(e.message);return}Ie(e instanceof Error?e.message:String(e))}async function tt(e){try{let{data:t}=await _(re,{});t?.viewer.kind==="ANONYMOUS"&&Y(e)}catch(t){J(t)}}async function nt(){K("loading");let{data:e}=await _(re,{}),t=e?.viewer;if(!t||t.kind==="ANONYMOUS"){Y();return}if(et(t),await Me(),c("dashboard").hidden=!1,c("signed-out").hidden=!0,K("ready"),!t.permissions.includes("EVENTS_READ")){De("ended","Your role cannot read events (EVENTS_READ).");return}W=$e(n=>{Re([n],!0),pe()},(n,r,d)=>{De(n,r),d&&tt(r)})}c("sign-out").addEventListener("click",async()=>{W?.(),W=null;try{await _(Te,{})}catch(e){e instanceof C||J(e)}Y()});nt().catch(e=>{J(e),document.body.dataset.state==="loading"&&K("error")});})();
